"""Prometheus metrics of a server or a worker: ``/metrics`` on the server, ``aga-swarm worker --metrics-port``.

The engine counts on its hot path with plain integers (:mod:`aga_swarm.engine.stats`); this collector turns
them into metric families when Prometheus scrapes, and reads the queue (depth and age, per kind and status)
from the database then. A scrape costs one grouped query on the operations' status index.

Families (all prefixed ``aga_swarm_``):

- ``operations_total{kind, outcome}``: operations that committed done, or failed (counter)
- ``operation_seconds{kind}``: how long the runner's executions took, an operation with those grouped into
  its transaction (histogram)
- ``queue_operations{kind, status}`` and ``queue_oldest_seconds{kind, status}``: operations queued, held
  (paused swarms) and running in the whole store, and the age of the oldest (gauges; every process reports
  the same store-wide values, so aggregate them with ``max``, while counters add up across processes)
- ``model_calls_total{model, outcome}``, ``model_tokens_total{model, direction}``,
  ``model_cost_usd_total{model}``, ``model_call_seconds{model}``
- server only: ``sockets_open`` (gauge), ``reply_push_seconds`` (histogram: a reply's POST arriving to
  the resumed node's next agent message going out on the socket) and ``gc_pause_seconds{generation}``
  (histogram: how long each of Python's garbage collections stopped the process, ``server/gcwatch.py``)
- the process's own CPU, memory and file descriptors (prometheus-client's process collector)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from .engine.stats import Histogram

if TYPE_CHECKING:
    from .engine.engine import Engine

QUEUE_QUERY = ("SELECT kind, status, count(*), min(created_at) FROM operations "
               "WHERE status IN ('queued', 'held', 'running') GROUP BY kind, status")


def _histogram(name: str, doc: str, labels: list[str], series: dict[tuple[str, ...], Histogram]) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for values, hist in series.items():
        family.add_metric(list(values), hist.cumulative(), hist.sum)
    return family


class EngineCollector(Collector):
    """The engine's counters and the store's queue, read at scrape time."""

    def __init__(self, engine: Engine, *, queue: bool = True) -> None:
        self.engine = engine
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        stats = self.engine.stats
        ops = CounterMetricFamily("aga_swarm_operations", "Operations that committed done, or failed, by kind",
                                  labels=["kind", "outcome"])
        for kind, n in list(stats.ops_done.items()):
            ops.add_metric([kind, "done"], n)
        for kind, n in list(stats.ops_failed.items()):
            ops.add_metric([kind, "failed"], n)
        yield ops
        yield CounterMetricFamily("aga_swarm_stale_retries", "Transactions run again because their swarm row "
                                  "changed between their read and their writes (PostgreSQL)",
                                  value=stats.stale_retries)
        yield _histogram("aga_swarm_operation_seconds", "Runner executions (an operation and those grouped into "
                         "its transaction), by the leading operation's kind", ["kind"],
                         {(k,): h for k, h in list(stats.op_seconds.items())})
        calls = CounterMetricFamily("aga_swarm_model_calls", "Model calls by model and outcome",
                                    labels=["model", "outcome"])
        tokens = CounterMetricFamily("aga_swarm_model_tokens", "Model tokens by model and direction",
                                     labels=["model", "direction"])
        cost = CounterMetricFamily("aga_swarm_model_cost_usd", "Model cost in US dollars (from llm/prices.py)",
                                   labels=["model"])
        models = list(stats.models.items())
        for model, m in models:
            calls.add_metric([model, "ok"], m.calls - m.errors)
            calls.add_metric([model, "error"], m.errors)
            tokens.add_metric([model, "in"], m.tokens_in)
            tokens.add_metric([model, "out"], m.tokens_out)
            cost.add_metric([model], m.cost_usd)
        yield calls
        yield tokens
        yield cost
        yield _histogram("aga_swarm_model_call_seconds", "Model call latency", ["model"],
                         {(model,): m.seconds for model, m in models})
        if self.queue:
            yield from self._queue()

    def _queue(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("aga_swarm_queue_operations", "Operations queued, held (paused swarms) and "
                                  "running, in the whole store", labels=["kind", "status"])
        oldest = GaugeMetricFamily("aga_swarm_queue_oldest_seconds", "Age of the oldest operation queued, held "
                                   "or running", labels=["kind", "status"])
        up = GaugeMetricFamily("aga_swarm_store_up", "Whether the last scrape could read the store")
        try:
            with self.engine.db.raw_read() as conn:
                conn.cursor.execute(QUEUE_QUERY)
                rows = conn.cursor.fetchall()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        now = time.time()
        for kind, status, count, first in rows:
            depth.add_metric([str(kind), str(status)], int(count))
            oldest.add_metric([str(kind), str(status)], max(0.0, now - float(first)))
        up.add_metric([], 1)
        yield depth
        yield oldest
        yield up


class ServerCollector(Collector):
    """What only a server knows: its open sockets, the reply-to-push latency and its collector's pauses."""

    def __init__(self, sockets: Callable[[], int], reply_push: Histogram,
                 gc_pauses: list[Histogram] | None = None) -> None:
        self.sockets = sockets
        self.reply_push = reply_push
        self.gc_pauses = gc_pauses or []

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("aga_swarm_sockets_open", "Socket.IO connections open on this process",
                                value=self.sockets())
        yield _histogram("aga_swarm_reply_push_seconds", "A reply's POST arriving to the resumed node's next "
                         "agent message going out on the socket", [], {(): self.reply_push})
        if self.gc_pauses:
            yield _histogram("aga_swarm_gc_pause_seconds", "How long each of Python's garbage collections took, "
                             "by generation", ["generation"],
                             {(str(gen),): h for gen, h in enumerate(self.gc_pauses)})


def registry_for(engine: Engine, *, server: ServerCollector | None = None) -> CollectorRegistry:
    """A registry of its own (not prometheus-client's global one), so several apps can live in one process."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    if server is not None:
        registry.register(server)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def serve_metrics(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> Any:
    """Expose ``/metrics`` on host:port from a daemon thread (a worker has no web server of its own).
    Returns prometheus-client's (server, thread) pair; ``server.shutdown()`` stops it."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr=host, registry=registry)
