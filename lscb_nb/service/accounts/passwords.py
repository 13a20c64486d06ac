"""Password rules beyond Django's own validators (OWASP ASVS 5.0, 6.2): long
passphrases are allowed, up to a cap that keeps hashing cheap to refuse."""

from __future__ import annotations

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
