"""Accounts, projects, users, memberships, API tokens and authentication."""
