"""Custom fields: typed values admins define for tickets, and each ticket's values."""
