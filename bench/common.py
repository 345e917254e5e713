"""Shared helpers for the benchmarks in bench/ (timing, SQLite file sizes, Markdown tables, machine info).

Nothing here touches the engine: the benchmark scripts import ``aga_swarm`` themselves.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Make ``import common`` work when a script is run as ``python bench/bench_x.py`` and ``aga_swarm``
# importable from a source checkout even if the package is not installed.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT / "src") not in sys.path and (_ROOT / "src" / "aga_swarm").is_dir():
    sys.path.insert(0, str(_ROOT / "src"))


# ---- timing ----------------------------------------------------------------------------------------
@dataclass
class Sample:
    """One timed repetition: wall and CPU seconds (CPU = this process, all threads) and a work count."""

    wall: float
    cpu: float
    units: int

    @property
    def wall_per_unit(self) -> float:
        return self.wall / max(self.units, 1)

    @property
    def cpu_per_unit(self) -> float:
        return self.cpu / max(self.units, 1)


@dataclass
class Timer:
    wall: float = 0.0
    cpu: float = 0.0
    _w: float = field(default=0.0, repr=False)
    _c: float = field(default=0.0, repr=False)

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def med_wall(samples: Sequence[Sample]) -> float:
    """Median over repetitions of wall seconds per unit."""
    return median([s.wall_per_unit for s in samples])


def med_cpu(samples: Sequence[Sample]) -> float:
    return median([s.cpu_per_unit for s in samples])


def spread(samples: Sequence[Sample]) -> str:
    """min-max of wall time per unit, in µs, to show the noise."""
    if not samples:
        return "-"
    vals = [s.wall_per_unit * 1e6 for s in samples]
    return f"{fmt_us(min(vals))}–{fmt_us(max(vals))}"


# ---- formatting ------------------------------------------------------------------------------------
def fmt_us(us: float) -> str:
    if us != us:  # nan
        return "-"
    if us >= 100:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.1f}" if ms < 1000 else f"{ms:,.0f}"


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.2f}"


def fmt_bytes(n: float) -> str:
    return f"{n:,.0f}"


def fmt_ratio(x: float) -> str:
    if x != x:
        return "-"
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table. ``align`` is one char per column: l, r or c (default: first l, rest r)."""
    align = align or ("l" + "r" * (len(headers) - 1))
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    out = ["| " + " | ".join(str(h) for h in headers) + " |",
           "| " + " | ".join(marks[a] for a in align) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ---- SQLite files ----------------------------------------------------------------------------------
def checkpoint(db_path: Path, conn: sqlite3.Connection | None = None) -> None:
    """Fold the WAL into the main file and truncate it, so the file size is the data's size."""
    own = conn is None
    c = conn or sqlite3.connect(db_path)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        if own:
            c.close()


def file_size(db_path: Path, conn: sqlite3.Connection | None = None) -> int:
    """Size in bytes of the database file after a TRUNCATE checkpoint (plus any WAL left over)."""
    checkpoint(db_path, conn)
    size = db_path.stat().st_size
    wal = Path(str(db_path) + "-wal")
    if wal.exists():
        size += wal.stat().st_size
    return size


def table_bytes(db_path: Path) -> dict[str, int]:
    """Bytes per table (its indexes included) from SQLite's dbstat virtual table; {} if unavailable."""
    c = sqlite3.connect(db_path)
    try:
        idx = dict(c.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table','index')").fetchall())
        out: dict[str, int] = {}
        for name, size in c.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall():
            table = idx.get(name, name)
            out[table] = out.get(table, 0) + int(size)
        return out
    except sqlite3.Error:
        return {}
    finally:
        c.close()


@contextmanager
def temp_dir(base: str | None, prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---- machine and process ---------------------------------------------------------------------------
def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def cpu_model() -> str:
    for line in _cmd(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def versions(*dists: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for d in dists:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            out[d] = "not installed"
    return out


def machine_section(extra: dict[str, str] | None = None) -> str:
    rows = [
        ("Date (UTC)", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())),
        ("CPU", cpu_model()),
        ("CPUs (nproc)", str(os.cpu_count())),
        ("Load average at start (1/5/15 min)", load_average()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("aga_swarm source digest (sha256 of src/aga_swarm/**/*.py)", source_digest()),
    ]
    rows += list((extra or {}).items())
    return md_table(["", ""], rows, "ll")


def source_digest() -> str:
    """A short hash of the engine's source files, to tie figures to the code they measured."""
    import hashlib

    h = hashlib.sha256()
    src = _ROOT / "src" / "aga_swarm"
    for f in sorted(src.rglob("*.py")):
        h.update(str(f.relative_to(src)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * 1024 if sys.platform != "darwin" else peak


def rss_bytes() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return 0


def write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str))
