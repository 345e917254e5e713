"""The Makefile's install and build steps run only when their inputs changed, and `make run` checks the port
before any of them. Run on a copy of the Makefile and the files it reads, with stand-ins on PATH for
python3.11, pip and npm that record their calls (the real ones take minutes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ["Makefile", "requirements.lock", "pyproject.toml", "web/package.json", "web/package-lock.json",
          "web/index.html", "web/vite.config.ts", "web/tsconfig.json", "web/tsconfig.node.json", "web/src/main.tsx",
          "examples/weather/pyproject.toml"]

TOOL = f"""#!{sys.executable}
import os, sys
from pathlib import Path
name = Path(sys.argv[0]).name
args = sys.argv[1:]
if name.startswith("python") and args[:1] == ["-c"]:
    os.execv({sys.executable!r}, [{sys.executable!r}, *args])  # the port check runs for real
with open(os.environ["TOOL_LOG"], "a") as log:
    log.write(" ".join([name, *args]) + "\\n")
if name.startswith("python") and args[:2] == ["-m", "venv"]:
    bin_dir = Path(args[2]) / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "activate").write_text("")
    (bin_dir / "pip").symlink_to(sys.argv[0])
if name == "npm" and args[:1] == ["ci"]:
    Path("node_modules").mkdir(exist_ok=True)
if name == "npm" and args[:2] == ["run", "build"]:
    out = Path("../src/aga_swarm/server/static")
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text("built")
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in INPUTS:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "python3.11").write_text(TOOL)
    (tools / "python3.11").chmod(0o755)
    (tools / "npm").symlink_to(tools / "python3.11")
    return tmp_path


def make(tree: Path, *targets: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tree / "tools.log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{tree / 'tools'}:{os.environ['PATH']}", "TOOL_LOG": str(log)}
    res = subprocess.run(["make", "--no-print-directory", *targets], cwd=tree, env=env, capture_output=True,
                         text=True, timeout=120)
    return res, log.read_text().splitlines()


def touch(tree: Path, rel: str) -> None:
    """Make ``rel`` the one file changed since the last make: everything else is dated a minute back (clearly
    older, whatever the file system's time resolution)."""
    earlier = time.time() - 60
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (earlier, earlier))
    os.utime(tree / rel)


def test_installs_and_builds_run_only_when_their_inputs_change(tree: Path) -> None:
    res, calls = make(tree, "install", "web")
    assert res.returncode == 0, res.stderr
    assert calls == ["python3.11 -m venv .venv", "pip install -q --upgrade pip", "pip install -q -r requirements.lock",
                     "pip install -q --no-deps -e .", "npm ci --no-audit --no-fund", "npm run build"]

    res, calls = make(tree, "install", "web")
    assert res.returncode == 0 and calls == []  # nothing changed: nothing runs

    touch(tree, "web/src/main.tsx")
    assert make(tree, "install", "web")[1] == ["npm run build"]

    touch(tree, "web/package-lock.json")
    assert make(tree, "install", "web")[1] == ["npm ci --no-audit --no-fund", "npm run build"]

    touch(tree, "requirements.lock")
    assert make(tree, "install", "web")[1] == ["pip install -q -r requirements.lock", "pip install -q --no-deps -e ."]

    assert make(tree, "install-dev")[1] == ["pip install -q --no-deps -e examples/weather"]  # the docs' plugin
    assert make(tree, "install-dev")[1] == []


def test_run_checks_the_port_before_installing_anything(tree: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res, calls = make(tree, "run", f"PORT={port}")
    assert res.returncode != 0
    assert f"error: port {port} on 127.0.0.1 is already in use" in res.stderr
    assert calls == []  # no venv, pip or npm before the check
