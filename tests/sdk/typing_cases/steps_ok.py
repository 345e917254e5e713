"""Steps whose types agree: mypy --strict accepts this file (tests/sdk/test_typing.py)."""

from pydantic import BaseModel

from aga_swarm.sdk import ChildrenResult, NoContext, Registry, StepContext, UserReply, step


class CityCtx(BaseModel):
    city: str = ""


class Forecast(BaseModel):
    summary: str


@step("w.start")
def start(ctx: StepContext, data: NoContext, result: None) -> None:
    ctx.ask("Which city?", next_step=on_city, context=CityCtx())


@step("w.on_city", context=CityCtx, result=UserReply)
def on_city(ctx: StepContext, data: CityCtx, result: UserReply) -> None:
    data.city = result.content
    ctx.llm("w.forecast", [{"role": "user", "content": data.city}], next_step=on_forecast, context=data)


@step("w.on_forecast", context=CityCtx, result=Forecast)
def on_forecast(ctx: StepContext, data: CityCtx, result: Forecast) -> None:
    ctx.spawn(result.summary)
    ctx.wait_children(review, data)


@step("w.review", context=CityCtx, result=ChildrenResult)
def review(ctx: StepContext, data: CityCtx, result: ChildrenResult) -> None:
    ctx.complete(f"{data.city}: {len(result.children)}")


def register(registry: Registry) -> None:
    registry.add_steps(start, on_city, on_forecast, review)

    @registry.step("w.again", context=CityCtx)
    def again(ctx: StepContext, data: CityCtx, result: None) -> None:
        ctx.goto(again, data)
