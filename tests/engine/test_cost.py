"""Cost accounting: no silent $0 for a model without a known price."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from aga_swarm.engine.errors import InvalidInput
from aga_swarm.llm.prices import Price, price_of
from aga_swarm.schemas import LLMSettings, SwarmConfig, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t


@pytest.mark.parametrize("model", ["claude-3-5-sonnet", "gemini-1.5-pro", "my-azure-deployment"])
def test_a_config_without_a_price_is_refused_when_saved(svc: SwarmService, model: str) -> None:
    llm = LLMSettings(provider="openai", model=model, api_key_env="NO_SUCH_KEY_VAR")
    with pytest.raises(InvalidInput, match=r"has no known price; set llm\.price_in_per_mtok"):
        svc.save_config(SwarmConfig(id="unpriced", name="x", llm=llm))
    with pytest.raises(InvalidInput, match="give both"):
        svc.save_config(SwarmConfig(id="half", name="x", llm=llm.model_copy(update={"price_in_per_mtok": 3.0})))
    priced = llm.model_copy(update={"price_in_per_mtok": 3.0, "price_out_per_mtok": 15.0})
    assert svc.save_config(SwarmConfig(id="priced", name="x", llm=priced)).id == "priced"
    assert price_of(priced) == Price(3.0, 15.0)


def test_known_and_free_models_need_no_price() -> None:
    assert price_of(LLMSettings(provider="openai", model="gpt-4o-mini-2024-07-18")) == Price(0.15, 0.60)
    assert price_of(LLMSettings(provider="openai", model="gpt-5")) == Price(1.25, 10.0)
    assert price_of(LLMSettings(provider="scripted", model="anything")) == Price(0.0, 0.0)
    assert price_of(LLMSettings(provider="openai", model="claude-3-5-sonnet")) is None


async def test_a_stored_config_without_a_price_is_refused_at_spawn(svc: SwarmService) -> None:
    cfg = SwarmConfig(id="old-unpriced", name="saved before prices were due",
                      llm=LLMSettings(provider="openai", model="gpt-6-preview"))
    with svc.db.tx() as conn:  # as an older version saved it
        conn.execute(insert(t.configs).values(id=cfg.id, owner_id="u1", name=cfg.name,
                                              data=cfg.model_dump(mode="json"), created_at=0.0))
    s = svc.create_swarm("u1", "Write a poem", config_id=cfg.id)
    with pytest.raises(InvalidInput, match="'gpt-6-preview' has no known price"):
        svc.spawn(s.id, owner_id="u1")
    assert svc.get_swarm(s.id).status is SwarmStatus.DRAFT
