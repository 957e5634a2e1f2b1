"""A short run of the load script: 50 clients for 10 seconds on 127.0.0.1, and not one error."""

import os
import subprocess
import sys
from pathlib import Path

LOAD = Path(__file__).resolve().parents[1] / "benchmarks" / "load.py"


def test_fifty_clients_get_no_errors(user_cache_dir):
    env = {**os.environ, "COCKTAIL_PARTY_CACHE": str(user_cache_dir)}
    done = subprocess.run(
        [sys.executable, str(LOAD), "--users", "50", "--seconds", "10"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "errors: 0" in done.stdout
    requests = int(done.stdout.split("\nall", 1)[1].split()[0])
    assert requests > 100, done.stdout
