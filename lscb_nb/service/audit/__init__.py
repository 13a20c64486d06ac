"""Audit: one append-only event per action, read by each authority for itself."""
