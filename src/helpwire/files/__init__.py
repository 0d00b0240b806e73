"""Uploads, storage backends and downloads."""
