"""The scripted model's routing rule for custom actions: a directive that names one goes to it."""

from __future__ import annotations

from typing import Any

import pytest

from aga_swarm.llm.scripted import default_answer

OPTIONS: list[dict[str, Any]] = [
    {"id": "info", "kind": "folder", "description": "Looking things up", "contains": ["weather", "stock_price"]},
    {"id": "plan", "kind": "action", "description": "Plan", "contains": ["plan"]},
    {"id": "ask_user", "kind": "action", "description": "Ask", "contains": ["ask_user"]},
    {"id": "do", "kind": "action", "description": "Do", "contains": ["do"]},
]


@pytest.mark.parametrize(("directive", "choice"), [
    ("Tell me the weather", "info"),               # names `weather`, which the folder holds
    ("WEATHER in Paris, please", "info"),          # case does not matter
    ("Look up the stock price of ACME", "info"),   # `_` in an id reads as a space
    ("Describe weathering of rocks", "do"),        # whole words only
    ("Plan the weekend and do the shopping", "do"),  # built-ins are never picked by name
    ("Ask the user about the weather", "ask_user"),  # the Ask prefix comes first
    ("Plan: weather; more", "plan"),
])
def test_route_choose(directive: str, choice: str) -> None:
    assert default_answer("route.choose", {"directive": directive, "options": OPTIONS})["choice"] == choice


def test_inside_the_folder_the_named_action_is_chosen() -> None:
    inside = [{"id": "weather", "kind": "action", "description": "", "contains": ["weather"]},
              {"id": "stock_price", "kind": "action", "description": "", "contains": ["stock_price"]}]
    facts = {"directive": "Check the stock-price today", "options": inside}
    assert default_answer("route.choose", facts)["choice"] == "stock_price"
