"""The cursor codec, re-exported for the HTTP layer; it lives in helpwire.pagination so that
services can page without importing the API package."""

from __future__ import annotations

from helpwire.pagination import cursor_id, decode_cursor, encode_cursor

__all__ = ["cursor_id", "decode_cursor", "encode_cursor"]
