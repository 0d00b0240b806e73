"""Tickets, comments, ratings, the event timeline and the lifecycle rules."""
