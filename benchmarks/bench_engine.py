"""Speed and memory of the NumPy engine next to transformers' eager Llama on the same GGUF file.

Measures, in one run: a warm full trace (every attention pattern and the logits) at 10, 30 and
100 tokens; the cold start from process start to the first answered trace, with the weight cache
present and absent; and the peak resident memory of a process that loads the model and traces
30 tokens. Run it with the project's virtual environment:

    .venv/bin/python benchmarks/bench_engine.py [--quick]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # transformers must read the local file only
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

LENGTHS = (10, 30, 100)
TARGET_WARM_RATIO = 0.5  # ours / transformers, 30 tokens
TARGET_COLD_S = 1.5  # cache present
TARGET_RSS_MB = 700.0

PARAGRAPH = (
    "At a crowded party, dozens of conversations overlap, glasses clink and music plays, yet "
    "when someone across the room says your name you hear it at once. Your brain has been "
    "listening to everything while paying attention to almost nothing. A language model does "
    "something similar with every word it reads: it asks which earlier words matter now, and "
    "gives them most of its weight while the rest fade into the background. Watching where that "
    "weight goes, layer by layer and head by head, shows how a small model keeps track of names, "
    "numbers and the shape of a sentence, and where it loses the thread."
)

# the child processes: each prints one JSON line when its first trace is answered
PEAK_RSS = """
import resource, sys

def maxrss_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes vs KiB

def peak_rss_mb():
    # Linux carries ru_maxrss over fork and exec, so a child of a large parent reports the
    # parent's peak; VmHWM belongs to this program's own address space
    try:
        with open("/proc/self/status") as f:
            return int(next(row for row in f if row.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration):
        return maxrss_mb()
"""
OURS_CHILD = (
    PEAK_RSS
    + """
import json, sys, time
import cocktail_party
model = cocktail_party.load_model(sys.argv[1])
model.trace(sys.argv[2])
print(json.dumps({"ready": time.time(), "hwm_mb": peak_rss_mb(), "maxrss_mb": maxrss_mb()}))
"""
)
THEIRS_CHILD = (
    PEAK_RSS
    + """
import json, sys, time
from pathlib import Path
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
path = Path(sys.argv[1])
tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
model = AutoModelForCausalLM.from_pretrained(
    str(path.parent), gguf_file=path.name, attn_implementation="eager", dtype=torch.float32
)
with torch.inference_mode():
    model(**tok(sys.argv[2], return_tensors="pt", add_special_tokens=False), output_attentions=True)
print(json.dumps({"ready": time.time(), "hwm_mb": peak_rss_mb(), "maxrss_mb": maxrss_mb()}))
"""
)


@dataclass
class Child:
    seconds: float  # from spawning the process to its first answered trace
    hwm_mb: float  # peak resident set size of the program (VmHWM)
    maxrss_mb: float  # the same from getrusage's ru_maxrss


def run_child(code: str, path: Path, text: str, env: dict[str, str] | None = None) -> Child:
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), text],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,  # a failure is reported below with the child's own error
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Child(report["ready"] - start, report["hwm_mb"], report["maxrss_mb"])


def median_child(children: list[Child]) -> Child:
    return Child(
        statistics.median(c.seconds for c in children),
        statistics.median(c.hwm_mb for c in children),
        statistics.median(c.maxrss_mb for c in children),
    )


def timed_pair_ms(a: Callable[[], object], b: Callable[[], object], runs: int, warmup: int = 2):
    """Median wall times of `a` and `b` in ms, measured alternately so that load on the machine
    falls on both alike."""
    for _ in range(warmup):
        a()
        b()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def text_of_length(model, n: int) -> str:
    """A prefix of PARAGRAPH that our tokenizer splits into exactly n tokens."""
    ids = model.tokenizer.encode(PARAGRAPH, add_special_tokens=False).ids
    if len(ids) < n:
        raise ValueError(f"the benchmark paragraph has {len(ids)} tokens, fewer than {n}")
    text = model.tokenizer.decode(ids[:n])
    if len(model.encode(text)) != n:
        raise ValueError(f"the {n}-token prefix does not re-encode to {n} tokens")
    return text


def mark(met: bool) -> str:
    return "met" if met else "NOT MET"


def cold_section(path: Path, text: str, runs: int) -> dict[str, Child]:
    def ours_cached() -> Child:
        return run_child(OURS_CHILD, path, text)

    def ours_uncached() -> Child:
        with tempfile.TemporaryDirectory(prefix="cocktail-bench-") as cache:
            return run_child(OURS_CHILD, path, text, {"COCKTAIL_PARTY_CACHE": cache})

    def theirs() -> Child:
        return run_child(THEIRS_CHILD, path, text)

    ours_cached()  # fills the default cache and the OS file cache
    kinds = {
        "ours, cache present": ours_cached,
        "ours, cache absent": ours_uncached,
        "transformers": theirs,
    }
    runs_of: dict[str, list[Child]] = {name: [] for name in kinds}
    for _ in range(runs):  # in turns, so that load on the machine falls on every kind alike
        for name, make in kinds.items():
            runs_of[name].append(make())
    results = {name: median_child(children) for name, children in runs_of.items()}
    print(f"\ncold start: process start to first trace answered (30 tokens); median of {runs}")
    for name, child in results.items():
        print(f"  {name:<22} {child.seconds:>7.2f} s")

    print("\npeak RSS of a process that loads the model and traces 30 tokens")
    print(f"  {'':<22} {'VmHWM':>8} {'ru_maxrss':>10}  (ru_maxrss starts at the parent's size)")
    for name, child in results.items():
        print(f"  {name:<22} {child.hwm_mb:>5.0f} MB {child.maxrss_mb:>7.0f} MB")
    return results


def warm_section(ours, path: Path, texts: dict[int, str], runs: int) -> dict[int, float]:
    import torch
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, attn_implementation="eager", dtype=torch.float32
    ).eval()

    print(
        f"\ntransformers {transformers.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )

    def theirs_trace(text: str):
        with torch.inference_mode():
            inputs = tok(text, return_tensors="pt", add_special_tokens=False)
            return theirs(**inputs, output_attentions=True)

    print(f"warm full trace: every attention pattern + logits; median of {runs} runs")
    print(f"  {'tokens':>6}  {'ours ms':>9}  {'transformers ms':>15}  {'ours/theirs':>11}", end="")
    print(f"  {'max |Δ attention|':>17}")
    ratios = {}
    for n, text in texts.items():
        ours_ms, theirs_ms = timed_pair_ms(
            partial(ours.trace, text), partial(theirs_trace, text), runs
        )
        ratios[n] = ours_ms / theirs_ms
        theirs_attention = np.stack([a[0].numpy() for a in theirs_trace(text).attentions])
        diff = np.abs(theirs_attention - ours.trace(text).attention).max()
        print(f"  {n:>6}  {ours_ms:>9.1f}  {theirs_ms:>15.1f}  {ratios[n]:>10.2f}x  {diff:>17.1e}")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (3 warm, 1 cold)")
    parser.add_argument("--model", type=Path, help="a llama GGUF file (default: SmolLM2-135M)")
    args = parser.parse_args()
    warm_runs, cold_runs = (3, 1) if args.quick else (9, 5)

    import cocktail_party

    # the weights stay mapped but untouched until the warm section, and torch is not imported
    # yet, so the children below start from a small parent
    ours = cocktail_party.load_model(args.model)
    path = ours.source
    texts = {n: text_of_length(ours, n) for n in LENGTHS}

    print(f"cocktail-party engine vs transformers eager float32 on {path.name}")
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    children = cold_section(path, texts[30], cold_runs)
    ratios = warm_section(ours, path, texts, warm_runs)

    cold = children["ours, cache present"].seconds
    print(f"\ntargets (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  warm 30-token trace <= {TARGET_WARM_RATIO}x transformers: {ratios[30]:.2f}x", end="")
    print(f"  {mark(ratios[30] <= TARGET_WARM_RATIO)}")
    print(
        f"  cold start with cache <= {TARGET_COLD_S} s: {cold:.2f} s  {mark(cold <= TARGET_COLD_S)}"
    )
    for name in ("ours, cache present", "ours, cache absent"):
        rss = children[name].hwm_mb
        print(f"  peak RSS <= {TARGET_RSS_MB:.0f} MB, {name}: {rss:.0f} MB  ", end="")
        print(mark(rss <= TARGET_RSS_MB))


if __name__ == "__main__":
    main()
