"""helpwire: a self-hosted support-ticket service."""

__version__ = "0.1.0"
