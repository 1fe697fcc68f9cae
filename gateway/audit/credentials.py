"""User names and passwords of auditor accounts (Article 12.1 of the decision).

A password has at least 8 characters with upper case, lower case and a special character
(:func:`password_problems` names each rule it fails). It is kept as an argon2id hash (never
the password), normalised to NFC first so that a Vietnamese password typed with composed or
decomposed diacritics is the same password.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "DUMMY_HASH",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "AccountError",
    "PasswordRuleError",
    "check_password",
    "check_username",
    "hash_password",
    "is_username",
    "needs_rehash",
    "normalise_password",
    "password_problems",
    "verify_password",
]

MIN_LENGTH = 8
MAX_LENGTH = 256
"""Longest password accepted (bounds the hashing work an attacker can ask for)."""

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): tens of
milliseconds per login here, so a burst of login attempts cannot starve the page. Hashes
made with other parameters still verify and are upgraded at the next login."""

DUMMY_HASH = _HASHER.hash("hople: no such account")
"""Verified against for unknown accounts, so that a login takes as long either way."""


class AccountError(ValueError):
    """An account operation that cannot be done (one line for a person)."""


class PasswordRuleError(AccountError):
    """A password that does not follow Article 12.1; ``problems`` lists each failed rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def _is_special(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace() and unicodedata.category(ch)[0] in "PS"


def password_problems(password: str) -> list[str]:
    """What a password lacks under Article 12.1 (empty when it is acceptable).

    Each problem is one line, Vietnamese first, English after a slash.
    """
    pw = normalise_password(password)
    out: list[str] = []
    if len(pw) < MIN_LENGTH:
        out.append(f"mật khẩu phải có ít nhất {MIN_LENGTH} ký tự / "
                   f"at least {MIN_LENGTH} characters")
    if len(pw) > MAX_LENGTH:
        out.append(f"mật khẩu dài quá {MAX_LENGTH} ký tự / at most {MAX_LENGTH} characters")
    if not any(ch.isupper() for ch in pw):
        out.append("cần ít nhất một chữ in hoa / an upper-case letter is required")
    if not any(ch.islower() for ch in pw):
        out.append("cần ít nhất một chữ thường / a lower-case letter is required")
    if not any(_is_special(ch) for ch in pw):
        out.append("cần ít nhất một ký tự đặc biệt (!, @, #, $, %, ^, &, * …) / "
                   "a special character is required")
    if any(unicodedata.category(ch) == "Cc" for ch in pw):
        out.append("không được chứa ký tự điều khiển / control characters are not allowed")
    return out


def check_password(password: str) -> str:
    """The NFC form of an acceptable password; :class:`PasswordRuleError` otherwise."""
    problems = password_problems(password)
    if problems:
        raise PasswordRuleError(problems)
    return normalise_password(password)


def hash_password(password: str) -> str:
    return _HASHER.hash(normalise_password(password))


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash that verified was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a damaged hash."""
    if len(password) > 4 * MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash, normalise_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def is_username(name: str) -> bool:
    """Whether ``name`` (already stripped and in lower case) is a well-formed user name."""
    return _USERNAME.match(name) is not None


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not is_username(name):
        raise AccountError(
            f"tên đăng nhập không hợp lệ / invalid user name {username!r}: 1-64 characters, "
            "lower-case letters, digits and . _ @ -, starting with a letter or digit"
        )
    return name
