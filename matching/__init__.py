"""Maatwerk's domain: the matching model, its storage and its use cases."""
