"""Notifications that are never lost: channels, the outbox, the relay and the senders."""
