"""Bulk work: one change to many tickets at once, each ticket's change its own."""
