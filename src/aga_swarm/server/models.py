"""Request bodies (only documented fields are writable: extra fields are rejected) and auth responses.

Every other response is a model from ``aga_swarm.schemas``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import SwarmStatus
from ..store.accounts import PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN, User

ID_PATTERN = r"^[A-Za-z0-9._-]{1,200}$"
MAX_SEQ = 2**31 - 1


class Body(BaseModel):
    """Request bodies: unknown fields are rejected, and values are not coerced (`false` is not a seq)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SignupBody(Body):
    username: str = Field(min_length=3, max_length=32, pattern=USERNAME_PATTERN,
                          description="3-32 characters: letters, digits, '_', '.', '-'; unique ignoring case")
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class PasswordChangeBody(Body):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, description="Not the username, "
                              "not blank, not one of the most common passwords")


class AuthResponse(BaseModel):
    user: User
    token: str = Field(description="Session token for `Authorization: Bearer` (also set as the aga_session cookie)")
    expires_at: datetime


class CreateSwarmBody(Body):
    name: str | None = Field(None, max_length=200)
    goal: str = Field(min_length=1, max_length=1_000_000)
    config: str = Field("local", min_length=1, max_length=200, pattern=ID_PATTERN, description="A config id "
                        "from GET /api/configs")


class UpdateSwarmBody(Body):
    name: str | None = Field(None, max_length=200)
    goal: str | None = Field(None, max_length=1_000_000, description="Only while the swarm is a draft")


class CloneBody(Body):
    at_seq: int | None = Field(None, ge=0, le=MAX_SEQ, description="Fork at this seq (a paused copy of the "
                               "state then); without it, a new draft with the same goal")
    name: str | None = Field(None, max_length=200)


class AutoApproveBody(Body):
    enabled: bool = Field(description="Turn approving automatically on or off")
    tool: str | None = Field(None, max_length=200, description="One tool's id (`server.tool`, as the action space "
                             "lists it); without it, every tool of this swarm")


class AutoApproveState(Body):
    auto_approve: list[str] = Field(description="The tools approved automatically in this swarm now (`*`: all)")


class PostMessageBody(Body):
    content: str = Field("", max_length=1_000_000, description="Markdown (may be empty when files are attached)")
    attachments: list[str] = Field(default_factory=list, max_length=100, description="Paths of files already in "
                                   "the swarm's memory space to attach (multipart: field `attach`, repeatable)")


class Health(BaseModel):
    status: str
    db: bool


class SwarmNotice(BaseModel):
    """Socket.IO `swarm_notice` payload: the swarm paused, resumed, finished, or went idle."""

    swarm_id: str
    kind: Literal["paused", "resumed", "finished", "idle"]
    status: SwarmStatus
