"""Configuration read from the environment, with safe development defaults."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("MAATWERK_INSTANCE", ROOT / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key() -> str:
    """A random key kept under instance/ so development sessions survive restarts."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Development defaults; every value can be set through the environment."""

    ENV_NAME = "development"
    DEBUG = False
    TESTING = False
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'maatwerk.sqlite'}")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Amsterdam")
    GEO_POSTCODES_FILE = os.environ.get("GEO_POSTCODES_FILE", "")
    # Empty: people are placed by their PC4 postcode area. "nominatim": by their six-character
    # postcode through Nominatim (self-hosted, or the public one within its usage policy).
    GEOCODER = os.environ.get("GEOCODER", "")
    NOMINATIM_URL = os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org")
    NOMINATIM_USER_AGENT = os.environ.get("NOMINATIM_USER_AGENT", "maatwerk (VCU Utrecht)")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")  # empty: write mails to MAIL_OUTBOX_DIR
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Maatwerk <noreply@maatwerk.local>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(INSTANCE / "outbox"))

    # A standby scheduler tries to take over this often; the leader checks its lock as often.
    SCHEDULER_RETRY_SECONDS = float(os.environ.get("SCHEDULER_RETRY_SECONDS", "30"))

    BABEL_DEFAULT_LOCALE = "nl"
    LANGUAGES = ("nl", "en")
    BABEL_DEFAULT_TIMEZONE = TIMEZONE

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_NAME = "maatwerk_session"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    HSTS = False

    # Behind a reverse proxy, the number of proxies whose X-Forwarded-For to trust; without it
    # every client shares the proxy's address and so one per-address login limit.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # memory:// counts per worker process; set a shared store (redis://...) with several workers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT = os.environ.get("LOGIN_LIMIT", "10 per 15 minutes")
    # Per IP, on POST of the public sign-up and referral forms.
    PUBLIC_FORM_LIMIT = os.environ.get("PUBLIC_FORM_LIMIT", "5 per hour")
    LOGIN_LOCKOUT_ATTEMPTS = int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", "10"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")  # per partner token

    # argon2id parameters (RFC 9106 second recommendation); tests lower them.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    DEMO_MODE = _bool("MAATWERK_DEMO", False)

    # A larger request body (a spreadsheet upload) is refused with 413.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))
    # An uploaded spreadsheet waits here between its preview and its import, at most IMPORT_TTL.
    IMPORT_DIR = os.environ.get("IMPORT_DIR", str(INSTANCE / "imports"))
    IMPORT_TTL_SECONDS = 3600
    # Follow-up of matches: how long e-mailed answer links live, and when closed records go.
    CHECK_IN_LINK_DAYS = int(os.environ.get("CHECK_IN_LINK_DAYS", "21"))
    REPLY_LINK_DAYS = int(os.environ.get("REPLY_LINK_DAYS", "30"))
    RETENTION_MONTHS = int(os.environ.get("RETENTION_MONTHS", "24"))

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()


class ProductionConfig(Config):
    """Hardened settings: SECRET_KEY and DATABASE_URL must come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    HSTS = True
    DEMO_MODE = False

    def __init__(self) -> None:
        key = os.environ.get("SECRET_KEY", "")
        if len(key.encode()) < 32:
            raise RuntimeError("SECRET_KEY must be set to at least 32 bytes in production")
        self.SECRET_KEY = key
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("DATABASE_URL must be set in production")
        self.DATABASE_URL = os.environ["DATABASE_URL"]


class TestConfig(Config):
    """Fast, isolated settings for the test suite."""

    ENV_NAME = "test"
    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1

    def __init__(self, database_url: str = "sqlite://", **overrides: object) -> None:
        self.SECRET_KEY = secrets.token_urlsafe(48)
        self.DATABASE_URL = database_url
        self.IMPORT_DIR = tempfile.mkdtemp(prefix="maatwerk-imports-")
        for key, value in overrides.items():
            setattr(self, key, value)


def from_environment() -> Config:
    """The configuration named by MAATWERK_ENV (development by default)."""
    return ProductionConfig() if os.environ.get("MAATWERK_ENV") == "production" else Config()
