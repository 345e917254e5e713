"""The public surface of ``aga_swarm.sdk`` is pinned: adding or removing a name is a decision made here."""

from __future__ import annotations

import aga_swarm.sdk as sdk

EXPECTED = {
    "WAIT", "ActionSpec", "ActionType", "Attachment", "CancelRest", "ChildOutcome", "ChildView", "ChildrenResult",
    "ChildrenView", "Confirm", "Decision", "Fail", "Finish", "InvalidInput", "InvalidPlan", "MalformedContinuation",
    "Memory", "NoContext", "NodeContext", "PolicyFn", "Prerequisite", "PromptMessage", "Registry", "Review",
    "Step", "StepContext", "Subtask", "SwarmError", "TerminationPolicy", "ToolOutcome", "UnknownPolicy",
    "UnknownStep", "UserReply", "Wait", "step",
}


def test_exported_members() -> None:
    assert set(sdk.__all__) == EXPECTED
    public = {name for name in dir(sdk) if not name.startswith("_")}
    submodules = {"errors", "plans", "policies", "registry", "steps", "types", "annotations"}
    assert public - submodules == EXPECTED  # nothing public that __all__ leaves out
    for name in EXPECTED:
        assert getattr(sdk, name) is not None
