"""Migrations of the audit app (committed; applied when the service starts)."""
