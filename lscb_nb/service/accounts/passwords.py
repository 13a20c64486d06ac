"""Password rules beyond Django's own validators (OWASP ASVS 5.0, 6.2): long
passphrases are allowed, up to a cap that keeps hashing cheap to refuse."""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 256  # ASVS asks that at least 64 be allowed


class MaximumLengthValidator:
    """Refuses passwords longer than :data:`MAX_PASSWORD_LENGTH` characters."""

    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is longer than {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Use at most {self.max_length} characters; a long passphrase is best."


class PaddedCommonPasswordValidator:
    """Refuses a common password stretched to the minimum length: repeated
    ("passwordpassword"), padded with digits or symbols ("password123456!!"), or one
    character over and over. Django's list holds few passwords of 15 characters or
    more, so the stretched forms of its 20,000 are checked too (ASVS 6.2.4)."""

    def __init__(self) -> None:
        self.common = CommonPasswordValidator().passwords

    def _base(self, password: str) -> str:
        core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", password.lower().strip())
        for size in range(1, len(core) // 2 + 1):
            if len(core) % size == 0 and core[:size] * (len(core) // size) == core:
                return core[:size]
        return core

    def validate(self, password: str, user=None) -> None:
        base = self._base(password)
        if len(set(password)) <= 2 or base in self.common or not base:
            raise ValidationError(
                "This password is a common password made longer; choose a passphrase.",
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return "Your password cannot be a common password repeated or padded."
