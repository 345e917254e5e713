"""Prompt templates: one YAML file per action under prompts/, plain English, roles system/user/assistant."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..schemas import PromptMessage

PROMPTS_DIR = Path(__file__).parent / "prompts"


@cache
def _load(action: str) -> dict[str, list[dict[str, str]]]:
    data: dict[str, list[dict[str, str]]] = yaml.safe_load((PROMPTS_DIR / f"{action}.yaml").read_text())
    return data


class _Safe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(action: str, name: str, **values: Any) -> list[PromptMessage]:
    """Fill a template. Values are inserted verbatim (braces in user text are safe)."""
    return [PromptMessage(role=m["role"], content=m["content"].format_map(_Safe(values)).strip())
            for m in _load(action)[name]]
