"""What the engine counts for metrics: plain integers and bucket arrays, updated on the hot path.

No locks and no metrics library here: an increment is a dict update (tens of nanoseconds), and a scrape
(``aga_swarm.metrics``) reads these numbers as they are. Counts are only ever added to, so a scrape never
sees one go down; two threads adding at the same instant may, rarely, lose one increment.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import NamedTuple

# seconds: from a grouped step on SQLite (tens of µs) to a slow model call (a minute)
LATENCY_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                      2.5, 5.0, 10.0, 30.0, 60.0)


class Histogram:
    """Counts per bucket (the last one is +Inf) and the sum, as Prometheus histograms want them."""

    __slots__ = ("buckets", "counts", "sum")

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, count of observations <= it) for each bucket and +Inf."""
        out: list[tuple[str, int]] = []
        total = 0
        for bound, count in zip((*(repr(b) for b in self.buckets), "+Inf"), self.counts, strict=True):
            total += count
            out.append((bound, total))
        return out


class ModelStats:
    __slots__ = ("calls", "cost_usd", "errors", "seconds", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost_usd = 0.0
        self.seconds = Histogram()


class ModelCallRecord(NamedTuple):
    """A model call a transaction recorded, counted once it commits."""

    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    seconds: float
    error: bool


class EngineStats:
    """Operations run and failed per kind, how long the runner's executions took, and model calls."""

    def __init__(self) -> None:
        self.ops_done: dict[str, int] = {}
        self.ops_failed: dict[str, int] = {}
        self.op_seconds: dict[str, Histogram] = {}
        self.models: dict[str, ModelStats] = {}
        # PostgreSQL: transactions run again because their swarm row changed between their read and their
        # writes (``GroupCommit._group``; another process, or thread, wrote the same swarm meanwhile)
        self.stale_retries = 0

    def ran(self, kinds: Iterable[str]) -> None:
        """Operations that committed done (one entry per operation, by kind)."""
        done = self.ops_done
        for kind in kinds:
            done[kind] = done.get(kind, 0) + 1

    def failed(self, kind: str) -> None:
        self.ops_failed[kind] = self.ops_failed.get(kind, 0) + 1

    def executed(self, kind: str, seconds: float) -> None:
        """One execution by the runner (an operation with the ones grouped into its transaction)."""
        hist = self.op_seconds.get(kind)
        if hist is None:
            hist = self.op_seconds[kind] = Histogram()
        hist.observe(seconds)

    def model_call(self, model: str, *, tokens_in: int, tokens_out: int, cost_usd: float, seconds: float,
                   error: bool) -> None:
        stats = self.models.get(model)
        if stats is None:
            stats = self.models[model] = ModelStats()
        stats.calls += 1
        stats.errors += error
        stats.tokens_in += tokens_in
        stats.tokens_out += tokens_out
        stats.cost_usd += cost_usd
        stats.seconds.observe(seconds)
