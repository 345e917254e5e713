"""The tool-using loop: a step lets the model call the node's tools through the provider's function calling
(``StepContext.llm(..., tools=...)``; ``do`` uses it with every tool of its swarm).

Each turn is a model call (an ``llm_call`` operation) offered the tools as functions. The model answers with
calls or with its final output. Each call is then made under the tool's approval policy:

- a built-in tool (the memory tools) runs inside the step's transaction, so its effect and its result commit
  together;
- an MCP tool is a ``tool_call`` operation (``engine/toolcall.py``): ``started`` is committed before the call,
  the result after it, and only then does the loop go on, so the model never sees a result that is not
  committed and a crash never repeats a completed call;
- ``ask``: the node asks the person in its chat (tool, arguments, the model's reason) and parks; a denial
  goes back to the model as the call's result; ``deny``: the call is refused and the model told so.

The conversation (the prompt, the model's calls and every result, each cut at 16 KB) is the loop's context,
stored in the node's continuation like any step's, by reference: each turn's request is stored once
(``store/payloads.py``, ``llm_requests``), so the context keeps the key of the last one (``base``, and how many of
its messages are the conversation's) plus only the turns since (and the facts the model gets, likewise); the
conversation is rebuilt from them when the model is asked again. So a continuation, and the ``node_updated``
event that carries it, stays the same size however long the conversation grows. The loop ends when the model
answers without calls (its answer goes to the caller's ``next_step``), or after ``limits.max_tool_calls`` calls,
when the model is asked once more with no tools offered and told why.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..sdk import PromptMessage, Registry, StepContext, SwarmError, ToolOutcome, UserReply
from ..sdk.steps import AnyStep
from .tools import APPROVE_WORDS, Tool, approval_text, deny_reason, loads_arguments, policy_for, short

RESULT_IN_PROMPT = 16_000  # characters of a result the model sees (a longer one is saved whole in the memory space)


class ToolRequest(BaseModel):
    """A call the model asked for: the provider's call id, the function's name, its arguments as JSON text."""

    id: str
    name: str
    arguments: str = "{}"


class ModelTurn(BaseModel):
    """What one turn of the loop returned (``llm.protocol.loop_turn``): calls, or the final output."""

    tool_calls: list[ToolRequest] = Field(default_factory=list)
    output: dict[str, Any] | None = None
    content: str = ""


class LoopState(BaseModel):
    """The loop's context, kept in the node's continuation between its operations. The conversation is the
    first ``base_len`` messages of the stored request ``base`` (the last turn's) followed by ``messages``, the
    turns since (``conversation``); without ``base`` (before the first turn, or a continuation stored before
    requests were referenced), ``messages`` is all of it."""

    purpose: str
    messages: list[dict[str, Any]] = Field(description="the conversation's turns after the base request's")
    base: str | None = Field(default=None, description="the key of the stored request the conversation extends")
    base_len: int = 0
    functions: dict[str, str] = Field(default_factory=dict, description="function name -> tool action id")
    final_step: str
    final_context: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict, description="the base request's facts, updated by these")
    pending: list[ToolRequest] = Field(default_factory=list)
    current: ToolRequest | None = None
    reason: str = ""
    calls: int = 0
    asked: bool = False
    save_results: bool = False

    def json_context(self) -> dict[str, Any]:
        """``model_dump(mode="json")``, written out (the continuation stores it at every turn, and pydantic walks
        each ``Any`` value of the conversation to dump it: ~10 µs against ~2): every value is JSON already, the
        loop's own dicts and lists are copied one level down, the messages themselves are shared (never changed
        once made)."""
        current = self.current
        return {"purpose": self.purpose, "messages": list(self.messages), "base": self.base, "base_len": self.base_len,
                "functions": dict(self.functions), "final_step": self.final_step,
                "final_context": dict(self.final_context), "facts": dict(self.facts),
                "pending": [dict(p.__dict__) for p in self.pending],
                "current": None if current is None else dict(current.__dict__), "reason": self.reason,
                "calls": self.calls, "asked": self.asked, "save_results": self.save_results}


def function_name(tool_id: str) -> str:
    """A tool's id as a function name the providers accept (``^[A-Za-z0-9_-]{1,64}$``): ``memory.write`` ->
    ``memory__write``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", tool_id.replace(".", "__"))[:64] or "tool"


def definition(tool: Tool, name: str) -> dict[str, Any]:
    """The function offered to the model (``tool`` and ``positional`` are ours: the scripted model reads them;
    the OpenAI client sends only name, description and parameters)."""
    return {"name": name, "description": (tool.description or tool.id)[:1024], "parameters": tool.schema,
            "tool": tool.id, "positional": list(tool.positional)}


def register(reg: Registry) -> None:
    offered_as: dict[str, tuple[Tool, str, dict[str, Any]]] = {}  # tool id -> the definition made for that tool

    def offer(name: str, tool_id: str) -> dict[str, Any]:
        """The function a tool is offered as, the same object each turn while the tool is (its JSON is then
        not made again, ``engine/context.py``); a tool the registry replaced (its server's list changed) anew."""
        tool = reg.tools[tool_id]
        known = offered_as.get(tool_id)
        if known is None or known[0] is not tool or known[1] != name:
            known = offered_as[tool_id] = (tool, name, definition(tool, name))
        return known[2]

    def start(ctx: StepContext, purpose: str, messages: list[PromptMessage] | list[dict[str, Any]], *,
              tools: list[str], next_step: AnyStep, context: BaseModel, facts: dict[str, Any] | None,
              save_results: bool) -> None:
        if next_step.result is None:
            raise RuntimeError(f"step {next_step.name!r} declares no result model to receive the model's answer")
        functions: dict[str, str] = {}
        for tool_id in tools:
            if tool_id in reg.tools:
                functions[function_name(tool_id)] = tool_id
        dumped = [(m if isinstance(m, PromptMessage) else PromptMessage.model_validate(m)).model_dump(
            exclude_none=True) for m in messages]
        state = LoopState(purpose=purpose, messages=dumped, functions=functions, final_step=next_step.name,
                          final_context=context.model_dump(mode="json"), facts=dict(facts or {}),
                          save_results=save_results)
        ask_model(ctx, state)

    def conversation(ctx: StepContext, state: LoopState) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The whole conversation (the base request's first ``base_len`` messages, then the turns since) and
        the facts the model call gets (the base request's, updated by those since)."""
        if state.base is None:
            return state.messages, state.facts
        stored = ctx.stored_request(state.base)
        return [*stored["messages"][:state.base_len], *state.messages], {**stored.get("facts", {}), **state.facts}

    def ask_model(ctx: StepContext, state: LoopState) -> None:
        told = ctx.take_inbox()
        if told:  # kept in the conversation, so every later turn has it too
            state.messages.append({"role": "user", "content": "The person you work for told you this while you "
                                   "worked; take it into account:\n" + "\n".join(f"- {t}" for t in told)})
            state.facts["told"] = [*conversation(ctx, state)[1].get("told", []), *told]
        messages, facts = conversation(ctx, state)
        limit = ctx.limits.max_tool_calls
        offered = [] if state.calls >= limit else [offer(name, t) for name, t in state.functions.items()]

        def rebase(key: str) -> None:  # this turn's stored request holds the conversation and facts: keep its key
            state.base, state.base_len, state.messages, state.facts = key, len(messages), [], {}

        # the person's files (ctx.attachments()) come with every turn, as with any model call of the node
        ctx.llm_turn(state.purpose, messages, next_step=on_turn, context=state, facts=facts,
                     take_inbox=False, attachments=True, output_step=reg.get_step(state.final_step),
                     functions=offered, stored=rebase, validated=True,  # dumped by start, or the loop's own
                     extends=None if state.base is None else (state.base, state.base_len))

    def finish(ctx: StepContext, state: LoopState, output: dict[str, Any]) -> None:
        step = reg.get_step(state.final_step)
        assert step.result is not None
        if state.asked:
            ctx.close_chat()
        ctx.run(step, step.load_context(state.final_context), step.result.model_validate(output))

    @reg.step("tools.on_turn", context=LoopState, result=ModelTurn)
    def on_turn(ctx: StepContext, state: LoopState, turn: ModelTurn) -> None:
        if not turn.tool_calls:
            if turn.output is None:
                ctx.fail("the model answered with neither tool calls nor an output")
                return
            finish(ctx, state, turn.output)
            return
        state.messages.append({"role": "assistant", "content": turn.content,
                               "tool_calls": [c.model_dump() for c in turn.tool_calls]})
        state.pending = list(turn.tool_calls)
        state.reason = turn.content.strip()
        names = ", ".join(state.functions.get(c.name, c.name) for c in turn.tool_calls)
        advance(ctx, state, f"The model asks for {len(turn.tool_calls)} tool "
                            f"call{'s' if len(turn.tool_calls) > 1 else ''}: {names}.")

    def advance(ctx: StepContext, state: LoopState, told: str = "") -> None:
        """Make the pending calls in order until one must wait (an approval, an MCP call), then ask the model.
        ``told``: a journal line still to write (the model's request), written with the approval asked for, when
        the first call asks for one (one journal line less a cycle), else on its own first."""
        limit = ctx.limits.max_tool_calls
        while state.pending:
            call = state.pending.pop(0)
            tool_id = state.functions.get(call.name)
            tool: Tool | None = reg.tools.get(tool_id) if tool_id else None
            refused = ""
            args: Any = {}
            if tool is None:
                refused = f"error: there is no tool {call.name!r}"
            else:
                try:
                    args = loads_arguments(call.arguments or "{}")
                except json.JSONDecodeError as exc:
                    args = exc
                allowed = ctx.config.mcp_servers
                if not isinstance(args, dict):
                    args, refused = {}, "error: the arguments must be a JSON object"
                elif state.calls >= limit:
                    refused = f"not called: this task may make at most {limit} tool calls"
                elif tool.remote is not None and allowed is not None and tool.remote[0] not in allowed:
                    refused = f"not called: {tool.id} is not among this swarm's tools"
            policy = "" if tool is None or refused else policy_for(tool, ctx.auto_approved)
            if policy == "deny":
                refused = f"not called: the operator's policy denies {tool_id}"
            if policy == "ask":
                assert tool is not None
                state.current, state.asked = call, True
                ctx.journal(f"{told} Asking the person to approve {tool.id}({shown(args)}).".lstrip())
                ctx.ask(approval_text(tool.id, args, state.reason), next_step=on_approval, context=state)
                return
            if told:
                ctx.journal(told)
                told = ""
            if tool is None or refused:
                answer(ctx, state, call, call.name if tool is None else tool.id, args, refused, error=True)
                continue
            if not run(ctx, state, call, tool, args):
                return
        if told:
            ctx.journal(told)
        ask_model(ctx, state)

    def run(ctx: StepContext, state: LoopState, call: ToolRequest, tool: Tool, args: dict[str, Any],
            said: str = "") -> bool:
        """Make the call: True when its result is in (a built-in tool), False when it is an operation of its own
        (an MCP tool: ``tools.on_result`` goes on). ``said``: the start of its journal line (the approval)."""
        state.calls += 1
        if tool.remote is not None:
            state.current = call
            ctx.journal(f"{said}Calling {tool.id}({shown(args)})" + (f": {short(state.reason, 200)}" if state.reason
                                                                     else "."))
            ctx.call_tool(tool.remote[0], tool.remote[1], args, idempotent=tool.idempotent,
                          next_step=on_result, context=state)
            return False
        assert tool.arguments is not None and tool.run is not None
        started = time.perf_counter()
        try:
            output = tool.run(ctx, tool.arguments.model_validate(args))
            failed = False
        except ValidationError as exc:
            output, failed = "error: invalid arguments: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()), True
        except SwarmError as exc:  # a missing file, a bad path, too large: the model is told and may try again
            output, failed = f"error: {exc}", True
        ms = (time.perf_counter() - started) * 1000
        ctx.journal(f"{said}Called {tool.id}({shown(args)}): " + (short(output, 200) if failed else
                                                                 f"{len(output)} characters."))
        ctx.record_tool_call(tool.id, args, output, step=state.final_step, error=failed, ms=ms)
        answer(ctx, state, call, tool.id, args, output, error=failed, recorded=True)
        return True

    def answer(ctx: StepContext, state: LoopState, call: ToolRequest, tool_id: str, args: dict[str, Any],
               text: str, *, error: bool = False, recorded: bool = False, path: str | None = None) -> None:
        """Give the model a call's result (cut at 16 KB; saved whole in the memory space when longer, or always
        with ``save_results``)."""
        if not recorded:
            ctx.record_tool_call(tool_id, args, text, step=state.final_step, error=error, ms=0.0)
        if path is None and not error and not tool_id.startswith("memory.") and (
                state.save_results or len(text.encode()) > RESULT_IN_PROMPT):
            path = ctx.save_tool_result(tool_id, text)
        seen = text
        if len(seen) > RESULT_IN_PROMPT:
            seen = seen[:RESULT_IN_PROMPT] + f"\n\n… (cut at {RESULT_IN_PROMPT} characters)"
        if path is not None:
            seen += f"\n\n(The whole result is saved in the memory space as {path}; memory.read reads it.)"
            pending = ctx.context_up  # the node's, with this step's changes
            files = [*ctx.node.context_up.get("files", []), *pending.get("files", [])]
            ctx.update(context_up={**pending, "files": list(dict.fromkeys([*files, path]))})
        state.messages.append({"role": "tool", "tool_call_id": call.id, "content": seen})
        if error:
            ctx.journal(f"{tool_id}: {short(text, 300)}")

    @reg.step("tools.on_result", context=LoopState, result=ToolOutcome)
    def on_result(ctx: StepContext, state: LoopState, outcome: ToolOutcome) -> None:
        call = state.current
        state.current = None
        if call is None:
            ctx.fail("a tool result arrived for no call")
            return
        tool_id = state.functions.get(call.name, call.name)
        if outcome.error:
            text, error = f"error: {outcome.error}", True
        else:
            text, error = (f"error: {outcome.text}" if outcome.is_error else outcome.text), outcome.is_error
            if outcome.blob_key and outcome.path is None:
                text = ctx.read_blob(outcome.blob_key).decode("utf-8", "replace")
        answer(ctx, state, call, tool_id, {}, text, error=error, recorded=True, path=outcome.path)
        advance(ctx, state)

    @reg.step("tools.on_approval", context=LoopState, result=UserReply)
    def on_approval(ctx: StepContext, state: LoopState, reply: UserReply) -> None:
        call = state.current
        state.current = None
        if call is None:
            ctx.fail("an approval arrived for no call")
            return
        tool_id = state.functions.get(call.name, call.name)
        tool: Tool | None = reg.tools.get(tool_id)
        args = loads_arguments(call.arguments or "{}")
        word, reason = deny_reason(reply.content)
        if word in APPROVE_WORDS and tool is not None:
            # the person's "yes" is the chat's record of it (no message of ours: the next thing the chat shows is
            # the next question or the answer); the approval and the call are one journal line
            if not run(ctx, state, call, tool, args, said=f"The person approved {tool_id}. "):
                return
            advance(ctx, state)
            return
        ctx.say("Understood; I will not call it.")
        ctx.journal(f"The person denied {tool_id}" + (f": {reason}" if reason else "."))
        denied = f"The person denied this call of {tool_id}" + (f": {reason}" if reason else ".")
        answer(ctx, state, call, tool_id, args, denied, error=True)
        advance(ctx, state)

    reg.tool_loop = start


def shown(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={short(v)}" for k, v in args.items())
