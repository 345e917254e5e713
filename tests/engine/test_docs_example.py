"""The worked example in docs/custom-actions.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from aga_swarm.api import SwarmService
from aga_swarm.schemas import LLMSettings, SwarmConfig, SwarmStatus

from .helpers import run_answering

DOC = Path(__file__).resolve().parents[2] / "docs" / "custom-actions.md"


async def test_custom_action_doc_example(sqlite_svc: SwarmService, tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    from aga_swarm.actions import registry

    if "weather.start" not in registry.steps:
        exec(compile(code.group(1), str(DOC), "exec"), {})
    script = tmp_path / "weather.yaml"
    script.write_text("""
- purpose: route.choose
  match: weather
  output: {choice: info}
- purpose: route.choose
  match: weather
  output: {choice: weather}
- purpose: weather.forecast
  output: {summary: sunny}
""")
    svc = sqlite_svc
    svc.save_config(SwarmConfig(id="weather", name="weather", llm=LLMSettings(script_path=str(script))))
    s = svc.create_swarm("u1", "Tell me the weather", config_id="weather")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id, default="Paris") is SwarmStatus.COMPLETED
    node = svc.state(s.id).nodes["n.1"]
    assert node.action_id == "weather" and node.report == "Paris: sunny"
