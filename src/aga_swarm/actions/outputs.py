"""Typed outputs the built-in steps expect from the model (their JSON schemas are sent to it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from ..sdk import Subtask
from ..sdk.plans import check_plan


class PlanOutput(BaseModel):
    subtasks: list[Subtask] = Field(description="The subtasks, one instruction each, with the numbers of the "
                                                "subtasks each one needs")
    policy: Literal["all", "fail_fast", "first", "confirm"] | None = Field(
        None, description="How to end when the subtasks end: all (review every report; the default), fail_fast "
                          "(the first failure fails the task), first (the first subtask done is the answer), "
                          "confirm (check the task is met by the reports, or re-plan)")

    @model_validator(mode="after")
    def _dependencies_form_a_dag(self) -> PlanOutput:
        check_plan(self.subtasks)  # an unknown number, a self-reference or a cycle: the model is asked again
        return self


class ReviewOutput(BaseModel):
    complete: bool
    summary: str = Field(description="Markdown summary for the person when complete")
    missing: list[Subtask] = Field(default_factory=list,
                                   description="Subtasks still to do when not complete (numbers in `needs` "
                                               "refer to this list)")

    @model_validator(mode="after")
    def _dependencies_form_a_dag(self) -> ReviewOutput:
        check_plan(self.missing)
        return self


class ConfirmOutput(BaseModel):
    """The ``confirm`` policy's review: is the directive met by the children's reports?"""

    met: bool = Field(description="Whether the reports show the task is done as asked")
    reason: str = Field(description="Why it is or is not met, in one sentence")
    missing: list[Subtask] = Field(default_factory=list,
                                   description="When not met: the subtasks still to do (numbers in `needs` refer "
                                               "to this list); empty to run the ones that did not finish again")

    @model_validator(mode="after")
    def _dependencies_form_a_dag(self) -> ConfirmOutput:
        check_plan(self.missing)
        return self


class RouteChoice(BaseModel):
    choice: str = Field(description="The id of one option, or 'none'")
    reason: str = ""


class AskMessage(BaseModel):
    message: str
    attachments: list[str] = Field(default_factory=list, description="Paths of memory-space files to show the "
                                   "person with the question (optional)")


class AskEvaluation(BaseModel):
    sufficient: bool
    followup: str = ""
    closing: str = ""
    learned: str = ""


class DoOutput(BaseModel):
    report: str
    artifact_title: str | None = None
    artifact: str | None = None
