"""A plugin whose action's step raises an unexpected error (for the server's error log); loaded by module name
(``--actions aga_test_explode``), so its ``register`` function is called."""

from aga_swarm.sdk import ActionSpec, ActionType, NoContext, Registry, StepContext, step


@step("explode.start")
def start(ctx: StepContext, data: NoContext, result: None) -> None:
    raise RuntimeError("the explode step blew up")


def register(registry: Registry) -> None:
    registry.add_steps(start)
    registry.register_action(ActionSpec(id="explode", description="Fail on purpose",
                                        action_type=ActionType.CUSTOM, entry_step="explode.start"))
