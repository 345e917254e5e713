"""Custom actions loaded as plugins by the `aga-swarm` processes: --actions, AGA_SWARM_ACTIONS, installed
entry points; a plugin that fails to load is one clear line; a plugin step's error is logged by `serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aga_swarm.cli import CLI_OWNER
from aga_swarm.service import SwarmService

from .test_cli_serve import json_lines, serving

BIN = Path(sys.executable).parent / "aga-swarm"
PLUGINS = Path(__file__).parent / "plugins"


def cli(args: list[str], tmp_path: Path, *, env: dict[str, str] | None = None, stdin: str = "",
        pythonpath: Path | None = PLUGINS) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path / "data"), **(env or {})}
    if pythonpath is not None:
        full_env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=full_env)


def routed_action(tmp_path: Path) -> tuple[str | None, str | None]:
    swarms = json.loads(cli(["swarms", "--json"], tmp_path).stdout)
    state = json.loads(cli(["state", swarms[0]["id"], "--json"], tmp_path).stdout)
    node = state["nodes"]["n.1"]
    return node["action_id"], node["report"]


def test_run_loads_a_module_named_with_actions(tmp_path: Path) -> None:
    res = cli(["run", "--actions", "aga_test_echo:register", "Echo this sentence"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert routed_action(tmp_path) == ("echo", "echo: Echo this sentence")


def test_worker_loads_the_modules_in_the_environment(tmp_path: Path) -> None:
    """A swarm queued here is run by a worker that loads the plugin from AGA_SWARM_ACTIONS (the same module
    named twice is loaded once)."""
    svc = SwarmService(data_dir=tmp_path / "data")
    try:
        sid = svc.create_swarm(CLI_OWNER, "Echo this sentence").id
        svc.spawn(sid)
    finally:
        svc.close()
    env = {"AGA_SWARM_ACTIONS": "aga_test_echo:register, aga_test_echo:register"}
    worker = cli(["worker", "--until-idle"], tmp_path, env=env)
    assert worker.returncode == 0, worker.stderr
    assert routed_action(tmp_path) == ("echo", "echo: Echo this sentence")


@pytest.mark.parametrize(("args", "env", "needle"), [
    (["run", "--actions", "aga_test_missing", "x"], {},
     "error: cannot load actions from module 'aga_test_missing': ModuleNotFoundError: No module named "
     "'aga_test_missing'"),
    (["run", "x"], {"AGA_SWARM_ACTIONS": "aga_test_broken"},
     "error: cannot load actions from module 'aga_test_broken': ImportError: this plugin needs a library that "
     "is not installed"),
    (["worker", "--until-idle", "--actions", "aga_test_echo:nothing"], {},
     "error: cannot load actions from module 'aga_test_echo:nothing': AttributeError: module 'aga_test_echo' has "
     "no attribute 'nothing'"),
    (["serve", "--port", "0", "--actions", "aga_test_broken"], {},
     "error: cannot load actions from module 'aga_test_broken': ImportError: this plugin needs a library that "
     "is not installed"),
])
def test_a_plugin_that_fails_to_load_is_one_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                                 needle: str) -> None:
    res = cli(args, tmp_path, env=env)
    assert res.returncode == 1
    assert res.stderr.strip() == needle
    assert not (tmp_path / "data" / "swarm.db").exists()  # it stopped before opening the store


def _fake_installed_package(site: Path, value: str) -> None:
    """A distribution's metadata with an `aga_swarm.actions` entry point, as pip would install it."""
    dist = site / "aga_test_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aga-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[aga_swarm.actions]\ntest_plugin = {value}\n")


def test_installed_entry_points_are_loaded(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_installed_package(site, "aga_test_echo:register")
    res = cli(["run", "Echo this sentence"], tmp_path, pythonpath=None,
              env={"PYTHONPATH": f"{site}{os.pathsep}{PLUGINS}"})
    assert res.returncode == 0, res.stderr
    assert routed_action(tmp_path)[0] == "echo"


def test_an_installed_plugin_that_fails_names_its_package(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_installed_package(site, "aga_test_gone")
    res = cli(["run", "x"], tmp_path, pythonpath=site)
    assert res.returncode == 1
    assert res.stderr.strip() == ("error: cannot load actions from 'aga_test_gone' (entry point 'test_plugin' of "
                                  "aga-test-plugin): ModuleNotFoundError: No module named 'aga_test_gone'")


def test_serve_logs_a_failing_step_with_its_traceback(tmp_path: Path) -> None:
    """Errors are logged by default: a plugin step that raises leaves an error line with the traceback."""
    env = {"PYTHONPATH": str(PLUGINS)}
    with serving(tmp_path, "--actions", "aga_test_explode", env=env) as (url, log), \
            httpx.Client(base_url=url, timeout=30) as http:
        token = http.post("/api/auth/signup", json={"username": "plugin-user", "password": "x-plugin-pass-1"})
        assert token.status_code == 201, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['token']}"
        swarm = http.post("/api/swarms", json={"goal": "Explode on purpose"}).json()
        assert http.post(f"/api/swarms/{swarm['id']}/spawn").status_code == 200
        deadline = time.monotonic() + 120
        while not any(r["level"] == "error" for r in json_lines(log)) and time.monotonic() < deadline:
            time.sleep(0.1)  # the step runs on the server's runner; wait for its error line
        state = http.get(f"/api/swarms/{swarm['id']}/state").json()
    assert state["nodes"]["n.1"]["action_id"] == "explode"
    errors = [r for r in json_lines(log) if r["level"] == "error"]
    assert any("RuntimeError: the explode step blew up" in r.get("exc", "") and "Traceback" in r.get("exc", "")
               for r in errors), log.read_text()[-3000:]


def test_a_plugin_named_twice_loads_once_per_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from aga_swarm.actions import builtin_registry
    from aga_swarm.plugins import load_actions

    monkeypatch.syspath_prepend(str(PLUGINS))
    reg = builtin_registry()
    name = "aga_test_echo:register"
    assert load_actions([name, name], registry=reg, installed=False) == [name]
    assert load_actions([name], registry=reg, installed=False) == [name]  # again (the server's app does)
    assert "echo" in reg.actions
    other = builtin_registry()
    load_actions([name], registry=other, installed=False)
    assert other.actions["echo"].entry_step == "echo.start"
