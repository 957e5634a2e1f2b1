"""Where the server's model work happens: the models, a bounded trace cache, and a gate that
bounds how many model runs happen at once and how many may wait."""

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from ..errors import CocktailPartyError
from ..model import Model, Trace

log = logging.getLogger("cocktail_party.server")
T = TypeVar("T")


class BusyError(CocktailPartyError):
    """Too many model runs are waiting; the client should retry shortly."""


class TraceCache:
    """Least-recently-used traces per (model, text), bounded in entries and bytes."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 256 * 2**20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[tuple[str, str], tuple[Trace, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def size_of(trace: Trace) -> int:
        return sum(a.nbytes for a in trace.internals.values())

    def get(self, key: tuple[str, str]) -> Trace | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: tuple[str, str], trace: Trace) -> None:
        size = self.size_of(trace)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (trace, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes}


class Gate:
    """At most `running` model runs at once and `waiting` more queued; beyond that, BusyError.

    One run at a time is the default: NumPy's BLAS already uses every core, and two runs side
    by side finish later than the same two runs one after the other.
    """

    def __init__(self, running: int = 1, waiting: int = 64):
        self.running, self.waiting = running, waiting
        self._slots = asyncio.Semaphore(running)
        self._admitted = 0

    async def run(self, fn: Callable[[], T]) -> T:
        if self._admitted >= self.running + self.waiting:
            raise BusyError(
                f"the model is busy with {self._admitted} requests; try again in a moment"
            )
        self._admitted += 1
        try:
            async with self._slots:
                return await anyio.to_thread.run_sync(fn)
        finally:
            self._admitted -= 1


class Models:
    """The trained model and, made on first use, its untrained twin, with a shared trace cache."""

    def __init__(self, trained: Model, cache: TraceCache | None = None, gate: Gate | None = None):
        self._models: dict[str, Model] = {"trained": trained}
        self._twin_lock = threading.Lock()
        self.cache = cache or TraceCache()
        self.gate = gate or Gate()
        self._roles: dict[str, dict] = {}

    @property
    def trained(self) -> Model:
        return self._models["trained"]

    def get(self, name: str) -> Model:
        if name == "untrained":
            with self._twin_lock:
                if "untrained" not in self._models:
                    log.info("making the untrained twin")
                    self._models["untrained"] = self.trained.untrained_twin()
        return self._models[name]

    def trace(self, name: str, text: str) -> Trace:
        """A full trace of text, from the cache when it is there (runs in a worker thread)."""
        key = (name, text)
        if (hit := self.cache.get(key)) is not None:
            return hit
        trace = self.get(name).trace(text)
        self.cache.put(key, trace)
        return trace

    def roles(self, name: str) -> dict:
        if name not in self._roles:
            from ..analysis import head_roles

            self._roles[name] = head_roles(self.get(name))
        return self._roles[name]

    def has(self, name: str, text: str) -> bool:
        """Whether the trace of text is cached, so an answer needs no model run."""
        return self.cache.get((name, text)) is not None

    def ready(self, name: str) -> bool:
        """Whether the model is made (the twin is made on first use)."""
        return name in self._models

    def has_roles(self, name: str) -> bool:
        return name in self._roles

    async def call(self, fn: Callable[[], T], cached: bool = False) -> T:
        """Run fn in a worker thread; through the gate unless it needs no model run."""
        if cached:
            return await anyio.to_thread.run_sync(fn)
        return await self.gate.run(fn)
