"""Black-box scan of the running app with wapiti, logged in as a coordinator, on 127.0.0.1 only.

    python benchmarks/security_scan.py [--max-scan-time 900] [--out DIR]

Creates a fresh SQLite database with the demo population and a coordinator, starts gunicorn on
127.0.0.1, logs in through the real login form, hands the session cookie to wapiti 3.2
(`pip install wapiti3` in a virtualenv of its own; Debian 12's wapiti 3.0.4 crashes on any
exclusion under Python 3.11) and scans with a time bound. The logout and language-switch URLs
are excluded so the scan keeps its session; ssrf, ssl and https_redirect are left out (they need
the internet or TLS). Writes DIR/wapiti.json and prints a
summary of the findings; the scan's results are discussed in benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

import requests

from server import CHEAP, PASSWORD, gunicorn, new_secret

from demo import population as demo_service  # noqa: E402 (server put the root on the path)
from matching.services import staff as staff_service  # noqa: E402
from matching.store import make_engine, make_session_factory, schema  # noqa: E402

MODULES = ("cookieflags,csp,csrf,crlf,exec,file,http_headers,ldap,methods,permanentxss,redirect,"
           "sql,timesql,upload,xss")
ACCOUNT = "scanner@vcu.example"
# Flask-Login's strong session protection binds the session to the User-Agent: log in with the
# one wapiti will send.
AGENT = "maatwerk-security-scan"


def fresh_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'scan.sqlite'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    with make_session_factory(engine)() as session:
        demo_service.load(session, seed=7, today=date.today(), postcode_file=None)
        staff_service.create_user(session, email=ACCOUNT, name="Scanner", role="coordinator",
                                  password=PASSWORD, profile=CHEAP)
        session.commit()
    engine.dispose()
    return url


def session_cookie_file(base_url: str, path: Path) -> None:
    """Log in through the form and write the cookie in wapiti's JSON cookie format."""
    client = requests.Session()
    client.headers["User-Agent"] = AGENT
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(base_url + "/login").text)
    assert token, "no CSRF token on the login page"
    response = client.post(base_url + "/login", allow_redirects=False, data={
        "email": ACCOUNT, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, f"login refused: {response.status_code}"
    cookies = {c.name: {"value": c.value, "expires": None, "secure": False, "port": None,
                        "version": 0} for c in client.cookies}
    path.write_text(json.dumps({"127.0.0.1": {"/": cookies}}))


def summary(report: Path) -> Counter[str]:
    data = json.loads(report.read_text())
    found: Counter[str] = Counter()
    for section in ("vulnerabilities", "anomalies", "additionals"):
        for category, items in data.get(section, {}).items():
            for item in items:
                found[f"{section}: {category}"] += 1
                print(f"- [{section}] {category}: {item.get('method', '')} {item.get('path', '')}"
                      f" {item.get('parameter', '') or ''} {item.get('info', '')[:160]}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-scan-time", type=float, default=900)
    parser.add_argument("--max-attack-time", type=float, default=120)
    parser.add_argument("--out", default="")
    parser.add_argument("--wapiti", default=os.environ.get("WAPITI", "") or shutil.which("wapiti"),
                        help="the wapiti 3.2 executable (default: $WAPITI, then the PATH)")
    args = parser.parse_args()
    wapiti = args.wapiti
    if not wapiti:
        parser.error("wapiti not found: pip install wapiti3 (in a virtualenv), pass --wapiti")
    out = Path(args.out or tempfile.mkdtemp(prefix="maatwerk-scan-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        url = fresh_database(Path(directory))
        with gunicorn(url, secret=new_secret(), workers=2, log=out / "gunicorn.log") as (base, _p):
            cookies = out / "cookies.json"
            session_cookie_file(base, cookies)
            report = out / "wapiti.json"
            command = [
                wapiti, "-u", base + "/", "--scope", "folder", "-c", str(cookies),
                "-x", base + "/logout", "-x", base + "/taal/*",
                "-m", MODULES, "-A", AGENT,
                "--max-scan-time", str(args.max_scan_time),
                "--max-attack-time", str(args.max_attack_time), "-d", "4",
                "--max-links-per-page", "40", "--max-files-per-dir", "60",
                "--flush-session", "--store-session", str(out / "session"),
                "-f", "json", "-o", str(report), "--no-bugreport", "-v", "1",
            ]
            print(" ".join(command))
            subprocess.run(command, check=False, timeout=args.max_scan_time + 600)
            jar = json.loads(cookies.read_text())["127.0.0.1"]["/"]
            still_in = requests.get(base + "/", cookies={k: v["value"] for k, v in jar.items()},
                                    headers={"User-Agent": AGENT}, allow_redirects=False)
            print(f"session still valid after the scan: {still_in.status_code == 200}")
    log = (out / "gunicorn.log").read_text(errors="replace")
    statuses = Counter(re.findall(r'" (\d{3}) ', log))
    print(f"\nresponses by status: {dict(sorted(statuses.items()))}")
    print(f"tracebacks in the server log: {log.count('Traceback')}")
    if not report.exists():
        print("wapiti wrote no report: see its output above")
        return 1
    print(f"\nfindings ({report}):")
    found = summary(report)
    print(f"\ntotals: {dict(found) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
