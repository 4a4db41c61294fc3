"""`python -m jobs`: the scheduler's commands without the web application."""
from .cli import jobs

jobs(prog_name="python -m jobs")
