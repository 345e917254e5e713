"""A plugin whose action's step raises an unexpected error (for the server's error log)."""

from pydantic import BaseModel

from aga_swarm.actions import ActionSpec, ActionType, registry
from aga_swarm.engine.context import StepContext


@registry.step("explode.start")
def start(ctx: StepContext, data: BaseModel, result: None) -> None:
    raise RuntimeError("the explode step blew up")


registry.register_action(ActionSpec(id="explode", description="Fail on purpose",
                                    action_type=ActionType.CUSTOM, entry_step="explode.start"))
