"""Agent groups (teams): who works which tickets together."""
