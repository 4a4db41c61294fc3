"""What the scheduler's `match_runs.execute` job does, for tests that start runs on the run page."""
from __future__ import annotations

from flask.testing import FlaskClient

from jobs import match_runs


def execute_for(client: FlaskClient) -> int:
    """Execute the runs queued through this test client's app now; how many."""
    return match_runs.execute_queued(client.application.extensions["maatwerk.sessions"])
