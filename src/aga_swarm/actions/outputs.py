"""Typed outputs the built-in steps expect from the model (their JSON schemas are sent to it)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlanOutput(BaseModel):
    subtasks: list[str] = Field(description="Independent subtasks, one instruction each")


class ReviewOutput(BaseModel):
    complete: bool
    summary: str = Field(description="Markdown summary for the person when complete")
    missing: list[str] = Field(default_factory=list, description="Subtasks still to do when not complete")


class RouteChoice(BaseModel):
    choice: str = Field(description="The id of one option, or 'none'")
    reason: str = ""


class AskMessage(BaseModel):
    message: str


class AskEvaluation(BaseModel):
    sufficient: bool
    followup: str = ""
    closing: str = ""
    learned: str = ""


class DoOutput(BaseModel):
    report: str
    artifact_title: str | None = None
    artifact: str | None = None
