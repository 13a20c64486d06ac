"""Migrations of the collection app (committed; applied when the service starts)."""
