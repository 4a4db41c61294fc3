"""Password policy and argon2id hashing."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12

# The most common passwords and their stems; a password whose letters, without trailing
# digits and symbols, are one of these is refused whatever its length.
_COMMON_STEMS = frozenset("""
password passwort wachtwoord welkom welcome qwerty qwertyuiop azerty asdfgh asdfghjkl zxcvbnm
letmein iloveyou admin administrator monkey dragon football voetbal master sunshine princess
shadow superman batman trustno abc abcdef abcdefgh secret geheim changeme maatwerk utrecht
ajax feyenoord amsterdam rotterdam nederland holland vrijwilliger coordinator starwars
whatever freedom hello hallo computer internet login baseball michael jennifer charlie
""".split())
_COMMON_WHOLE = frozenset("""
123456789012 1234567890123 111111111111 000000000000 123123123123 987654321098
qwerty123456 password1234 welkom123456 1q2w3e4r5t6y 1qaz2wsx3edc
""".split())


@dataclass(frozen=True)
class HashProfile:
    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_cost, parallelism=self.parallelism
        )


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password is refused (a message key), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    lowered = password.lower()
    stem = lowered.strip("0123456789!@#$%^&*()_-+=.,?~ ")
    if lowered in _COMMON_WHOLE or stem in _COMMON_STEMS or len(set(lowered)) <= 3:
        return "too_common"
    for personal in (email.split("@")[0].lower(), *name.lower().split()):
        if len(personal) >= 4 and personal in lowered:
            return "too_personal"
    return None


def hash_password(password: str, profile: HashProfile) -> str:
    return profile.hasher().hash(password)


def verify_password(stored_hash: str, password: str, profile: HashProfile) -> bool:
    try:
        return profile.hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
