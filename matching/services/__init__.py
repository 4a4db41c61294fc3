"""Use cases: each takes a session first, flushes, never commits."""
