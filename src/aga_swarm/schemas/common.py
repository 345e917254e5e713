"""Shared base model and small helpers for the wire contract."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Base of every wire model: unknown fields are rejected so nothing is mass-assigned."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def utcnow() -> datetime:
    return datetime.now(UTC)
