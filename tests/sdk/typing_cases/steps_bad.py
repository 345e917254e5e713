"""Steps whose types disagree: each line marked ``# error`` must be one mypy --strict rejects
(tests/sdk/test_typing.py), and no other line may be."""

from pydantic import BaseModel

from aga_swarm.sdk import ChildrenResult, StepContext, UserReply, step


class CityCtx(BaseModel):
    city: str = ""


class OtherCtx(BaseModel):
    n: int = 0


class Forecast(BaseModel):
    summary: str


@step("w.on_city", context=CityCtx, result=UserReply)
def on_city(ctx: StepContext, data: CityCtx, result: UserReply) -> None:
    ctx.complete(data.city)


@step("w.on_forecast", context=CityCtx, result=Forecast)
def on_forecast(ctx: StepContext, data: CityCtx, result: Forecast) -> None:
    ctx.complete(result.summary)


@step("w.wrong_context", context=CityCtx)  # error: the function takes another context
def wrong_context(ctx: StepContext, data: OtherCtx, result: None) -> None:
    ctx.complete(str(data.n))


@step("w.wrong_result", context=CityCtx, result=UserReply)  # error: the function takes another result
def wrong_result(ctx: StepContext, data: CityCtx, result: Forecast) -> None:
    ctx.complete(result.summary)


@step("w.hands_on", context=CityCtx)
def hands_on(ctx: StepContext, data: CityCtx, result: None) -> None:
    ctx.ask("Which city?", next_step=on_city, context=OtherCtx())  # error: the next step's context is CityCtx
    ctx.ask("Which city?", next_step=on_forecast, context=data)  # error: on_forecast does not take a reply
    ctx.wait_children(on_city, data)  # error: on_city does not take the children's outcomes
    ctx.ask("Which city?", next_step="w.on_city", context=data)  # error: a name, not the step


def takes_children(ctx: StepContext, data: CityCtx, result: ChildrenResult) -> None:
    ctx.complete(str(len(result.children)))
