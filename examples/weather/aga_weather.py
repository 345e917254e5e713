from pydantic import BaseModel

from aga_swarm.sdk import ActionSpec, ActionType, NoContext, Registry, StepContext, UserReply, step


class Weather(BaseModel):          # the model's structured output for this step
    summary: str


class CityCtx(BaseModel):          # context carried from one step to the next (persisted, validated)
    city: str = ""


@step("weather.start")
def start(ctx: StepContext, data: NoContext, result: None) -> None:
    ctx.journal("Asking which city.")
    ctx.ask("Which city should I check?", next_step=on_city, context=CityCtx())


@step("weather.on_city", context=CityCtx, result=UserReply)
def on_city(ctx: StepContext, data: CityCtx, result: UserReply) -> None:
    data.city = result.content
    ctx.close_chat()
    ctx.llm("weather.forecast",
            [{"role": "system", "content": "You describe the weather."},
             {"role": "user", "content": f"Weather in {data.city}?"}],
            next_step=on_forecast, context=data, facts={"directive": ctx.node.directive})


@step("weather.on_forecast", context=CityCtx, result=Weather)
def on_forecast(ctx: StepContext, data: CityCtx, result: Weather) -> None:
    ctx.complete(f"{data.city}: {result.summary}")


def register(registry: Registry) -> None:
    registry.add_steps(start, on_city, on_forecast)
    registry.register_action(
        ActionSpec(id="weather", description="Report the weather for a city the person names",
                   action_type=ActionType.CUSTOM, entry_step="weather.start"),
        folder="info", folder_description="Looking things up")
