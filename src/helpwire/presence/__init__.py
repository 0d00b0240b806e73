"""Who is on a ticket's page right now: staff viewing or replying, shared through the
database so that every process of an installation sees the same."""
