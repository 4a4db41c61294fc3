"""Static security analysis: bandit finds nothing of medium or high severity in the code."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The same command as `make audit`; low-severity findings are reviewed in benchmarks/README.md.
COMMAND = ["-m", "bandit", "-r", "matching", "web", "jobs", "demo", "config.py", "-q", "-ll"]


def test_bandit_finds_no_medium_or_high_issues():
    result = subprocess.run(
        [sys.executable, *COMMAND], cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_reports_an_issue_it_is_given(tmp_path):
    # Proves the command above really scans: the same flags on a known bad file fail.
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\nsubprocess.call('ls ' + input(), shell=True)\n")
    result = subprocess.run(
        [sys.executable, "-m", "bandit", str(bad), "-q", "-ll"], capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "B602" in result.stdout
