"""Migrations of the accounts app (committed; applied when the service starts)."""
