"""docs/custom-actions.md works exactly as written: its code is the example plugin's module, and its commands,
run as they stand in an activated venv, route the node to the new `weather` action (no hidden script rules:
the only script is the one the docs name, and it answers the forecast only)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "custom-actions.md"
EXAMPLE = ROOT / "examples" / "weather"
VENV_BIN = Path(sys.executable).parent


def block(lang: str, after: str = "") -> str:
    text = DOC.read_text()
    found = re.search(rf"```{lang}\n(.*?)```", text[text.index(after):], re.S)
    assert found is not None, f"no {lang} block after {after!r} in {DOC.name}"
    return found.group(1)


def test_the_docs_code_is_the_example_plugin() -> None:
    assert block("python") == (EXAMPLE / "aga_weather.py").read_text()
    pyproject = (EXAMPLE / "pyproject.toml").read_text()
    assert '[project.entry-points."aga_swarm.actions"]\nweather = "aga_weather"' in pyproject


def test_the_docs_commands_route_to_the_weather_action(tmp_path: Path) -> None:
    commands = block("sh", "## Run it")
    assert "pip install -e examples/weather" in commands and "aga-swarm run" in commands
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",  # as `source .venv/bin/activate`
           "VIRTUAL_ENV": str(VENV_BIN.parent), "AGA_SWARM_DATA": str(tmp_path)}
    for name in ("PYTHONPATH", "AGA_SWARM_ACTIONS", "OPENAI_API_KEY", "AGA_SWARM_DB_URL", "AGA_SWARM_BLOB_URL"):
        env.pop(name, None)
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert "Which city should I check?" in res.stdout and "Paris: sunny" in res.stdout

    script = yaml.safe_load((EXAMPLE / "forecast.yaml").read_text())
    assert [rule["purpose"] for rule in script] == ["weather.forecast"]  # nothing steers the routing

    aga = str(VENV_BIN / "aga-swarm")
    swarms = json.loads(subprocess.run([aga, "swarms", "--json"], env=env, capture_output=True, text=True,
                                       timeout=60, check=True).stdout)
    state = json.loads(subprocess.run([aga, "state", swarms[0]["id"], "--json"], env=env, capture_output=True,
                                      text=True, timeout=60, check=True).stdout)
    assert state["status"] == "completed"
    node = state["nodes"]["n.1"]
    assert node["action_id"] == "weather" and node["report"] == "Paris: sunny"
