"""Scheduled work: thin job functions and the one scheduler process."""
