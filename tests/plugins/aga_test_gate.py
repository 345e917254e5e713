"""Holds the scripted model's answer to a task whose directive starts with 'Gated' at a gate, so a test can
act while operations are running in a worker process (tests/engine/test_worker_cli.py).

The folder is $AGA_TEST_GATE. Each gated call writes ``started-<directive>`` there, then waits (without
blocking the worker's loop) until the file ``open`` exists, then ``done-<directive>``. ``max-in-flight``
holds the most gated calls this process ever had in flight at once. ``register`` adds no action: loading
the module (``--actions aga_test_gate:register``) installs the gate."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aga_swarm.llm.protocol import LLMRequest, LLMResponse
from aga_swarm.llm.scripted import ScriptedModel
from aga_swarm.sdk import Registry

_plain = ScriptedModel.complete
_in_flight = 0
_most = 0


async def _gated(self: ScriptedModel, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
    global _in_flight, _most
    directive = str(request.facts.get("directive", ""))
    if not directive.startswith("Gated") or not request.purpose.startswith("do."):
        return await _plain(self, request, output_model)
    folder = Path(os.environ["AGA_TEST_GATE"])
    name = directive.replace(" ", "_")
    _in_flight += 1
    _most = max(_most, _in_flight)
    (folder / "max-in-flight").write_text(str(_most))
    (folder / f"started-{name}").write_text("")
    try:
        while not (folder / "open").exists():
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # still in flight a moment after the gate opens: overlap shows if allowed
    finally:
        _in_flight -= 1
    (folder / f"done-{name}").write_text("")
    return await _plain(self, request, output_model)


def register(registry: Registry, **_: Any) -> None:
    ScriptedModel.complete = _gated  # type: ignore[method-assign]
