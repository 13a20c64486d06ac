"""Accounts: who may sign in, in which role, for which authority and agency."""
