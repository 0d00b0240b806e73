"""HTTP plumbing shared by every router: sessions, principals, idempotency, pagination."""
