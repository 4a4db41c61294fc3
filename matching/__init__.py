"""Maatwerk: buddy matching of volunteers and residents."""
