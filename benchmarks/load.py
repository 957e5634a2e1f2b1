"""Load the guide's server on 127.0.0.1 with many clients and report errors, latency and memory.

    python benchmarks/load.py                      # 50 clients for 30 s (locust)
    python benchmarks/load.py --seconds 10         # the short run the test suite makes
    python benchmarks/load.py --soak 10000         # RSS growth over 10,000 requests

The server runs in its own process, started here and stopped at the end; traffic goes only to
127.0.0.1 and every loop is bounded in time or count. Exit status 1 when any request failed.
"""

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psutil
from common import running_server

HERE = Path(__file__).resolve().parent


def rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def warm_up(url: str) -> None:
    """Touch every page of the weights and build the twin once, as a first class would."""
    info = httpx.get(f"{url}/api/info", timeout=60).json()
    ex = info["examples"][0]
    for model in ("trained", "untrained"):
        body = {"text": ex["text"], "layer": ex["layer"], "head": ex["head"], "model": model}
        httpx.post(f"{url}/api/attention", json=body, timeout=120).raise_for_status()
    httpx.get(f"{url}/api/roles", timeout=120).raise_for_status()


def run_locust(url: str, users: int, seconds: int, out: Path) -> list[dict]:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--host",
        url,
        "--csv",
        str(out / "load"),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "ERROR",
    ]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with (out / "load_stats.csv").open() as f:
        return list(csv.DictReader(f))


def load(args) -> int:
    with running_server() as (url, proc), tempfile.TemporaryDirectory() as tmp:
        warm_up(url)
        before = rss_mb(proc)
        rows = run_locust(url, args.users, args.seconds, Path(tmp))
        after = rss_mb(proc)
    print(f"{args.users} clients for {args.seconds} s against the guide on 127.0.0.1\n")
    print(f"{'endpoint':<34} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        failures += int(row["Failure Count"]) if name != "all" else 0
        print(
            f"{(row['Type'] + ' ' + name).strip():<34} {row['Request Count']:>9} "
            f"{row['Failure Count']:>7} {row['50%']:>8} {row['99%']:>8}"
        )
    print(f"\nserver RSS: {before:.0f} MB before, {after:.0f} MB after")
    print(f"errors: {failures}")
    return 1 if failures else 0


async def soak(url: str, proc: psutil.Process, total: int, concurrency: int) -> dict:
    """Send `total` mixed requests; RSS after the first tenth (caches filled) and at the end."""
    async with httpx.AsyncClient(timeout=120) as client:
        info = (await client.get(f"{url}/api/info")).json()
    examples = [e["text"] for e in info["examples"]]
    rng = random.Random(0)
    words = ["the", "old", "cat", "saw", "a", "bright", "river", "near", "our", "quiet", "city", "and", "then", "slept"]
    errors, done, marks = 0, 0, {}

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal errors
        if i % 10 == 0:  # one request in ten brings a sentence never seen before
            text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14)))
        else:
            text = examples[i % len(examples)]
        body = {"text": text, "layer": i % 30, "head": i % 9}
        r = await client.post(f"{url}/api/attention", json=body)
        errors += r.status_code != 200

    async with httpx.AsyncClient(timeout=120) as client:
        while done < total:
            batch = min(concurrency, total - done)
            await asyncio.gather(*(one(client, done + k) for k in range(batch)))
            done += batch
            if done >= total // 10 and "start" not in marks:
                marks["start"] = (done, rss_mb(proc))
    marks["end"] = (done, rss_mb(proc))
    return {"errors": errors, **marks}


def soak_main(args) -> int:
    with running_server() as (url, proc):
        warm_up(url)
        result = asyncio.run(soak(url, proc, args.soak, args.users))
    (n0, r0), (n1, r1) = result["start"], result["end"]
    growth = (r1 - r0) / r0
    print(f"{n1} requests, {args.users} at a time: {result['errors']} errors")
    print(
        f"server RSS {r0:.0f} MB after {n0} requests, {r1:.0f} MB after {n1}: "
        f"{growth:+.1%} (target < +10%)"
    )
    return 1 if result["errors"] or growth >= 0.10 else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--soak", type=int, default=0, help="send this many requests instead")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return soak_main(args) if args.soak else load(args)


if __name__ == "__main__":
    sys.exit(main())
