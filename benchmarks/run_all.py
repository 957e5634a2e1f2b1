"""Every performance figure of the project in one run: the engine against transformers, the
guide in the browser, and the server under load.

    python benchmarks/run_all.py [--quick]
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(title: str, *argv: str) -> int:
    print(f"\n=== {title} ===", flush=True)
    return subprocess.run(
        [sys.executable, str(HERE / argv[0]), *argv[1:]], cwd=HERE, check=False
    ).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, shorter load")
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    codes = [
        run("engine vs transformers eager", "bench_engine.py", *quick),
        run("the guide in Chromium", "bench_guide.py", *(["--clicks", "1"] if args.quick else [])),
        run("50 clients on 127.0.0.1", "load.py", "--seconds", "10" if args.quick else "30"),
    ]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
