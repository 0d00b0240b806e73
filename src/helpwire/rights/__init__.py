"""Data rights: a person's data exported or erased on request, and closed tickets deleted
once they are older than the retention period."""
