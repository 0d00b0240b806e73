"""The faces' tests use the notification tests' real HTTP receiver for chat messages."""

from tests.notify.conftest import receiver

__all__ = ["receiver"]
