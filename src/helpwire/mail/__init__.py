"""Conversations by e-mail: messages out to the people of a ticket (and, later, mail in)."""
