"""A plugin with one action, `echo`, that completes with its directive; ``register`` adds it to a registry
(``--actions aga_test_echo:register``, or an entry point naming it)."""

from aga_swarm.sdk import ActionSpec, ActionType, NoContext, Registry, StepContext


def register(registry: Registry) -> None:
    @registry.step("echo.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete(f"echo: {ctx.node.directive}")

    registry.register_action(ActionSpec(id="echo", description="Repeat the task back",
                                        action_type=ActionType.CUSTOM, entry_step="echo.start"), folder="tools")
