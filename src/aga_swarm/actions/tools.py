"""Tools as actions: each tool is an action of the action space (routed to like any other) whose node asks the
model for the tool's arguments, runs the tool and reports its result.

The built-in tools are the memory space's (folder ``memory``): ``memory.list``, ``memory.read``,
``memory.write`` and ``memory.search``. They run inside the step's transaction, so a write commits with the
node's report and a crash never half-applies one. The node's report is the tool's result text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from ..sdk import ActionSpec, ActionType, NoContext, Registry, StepContext, SwarmError, ToolOutcome, UserReply
from .prompts import render

if TYPE_CHECKING:
    from ..mcp.config import McpConfig
    from ..mcp.hub import McpTool

APPROVE_WORDS = frozenset({"y", "yes", "approve", "approved", "ok", "okay", "go"})
DENY_WORDS = frozenset({"n", "no", "deny", "denied", "stop"})
MAX_RESULT_CHARS = 16_000  # a result longer than this is cut in the report (the file stays whole)


class ToolArguments(BaseModel):
    """What the model answers for a tool call: the arguments (checked against the tool's own schema)."""

    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments, as its schema says")
    reason: str = Field("", description="Why this call, in a sentence")


class ListArgs(BaseModel):
    prefix: str = Field("", description="A folder path to list ('' for every file)")


class ReadArgs(BaseModel):
    path: str = Field(description="The file's path, e.g. notes/plan.md")


class WriteArgs(BaseModel):
    path: str = Field(description="The file's path, e.g. notes/plan.md")
    content: str = Field(description="The whole new content of the file")
    title: str | None = Field(None, description="A short title (default: the file name)")


class SearchArgs(BaseModel):
    query: str = Field(description="Text to look for in file paths, titles and contents (any case)")


@dataclass(frozen=True)
class Tool:
    """A tool action. Built-in tools run inside the step (``run(ctx, args)`` returns the result text); an MCP
    server's tool (``remote`` = (server, tool name)) is called as an operation of its own (``ctx.call_tool``)."""

    id: str
    description: str
    arguments: type[BaseModel] | None  # None: the JSON schema ``input_schema`` (checked by the server)
    positional: tuple[str, ...]  # how a one-line call ``Tool: <id> a b rest...`` maps onto the arguments
    run: Callable[[StepContext, Any], str] | None
    read_only: bool = True
    input_schema: dict[str, Any] | None = None
    remote: tuple[str, str] | None = None
    idempotent: bool = False
    policy: str = "auto"  # auto: call; ask: the person approves each call in the node's chat; deny: never

    @property
    def schema(self) -> dict[str, Any]:
        if self.arguments is not None:
            return _schema_of(self.arguments)
        return self.input_schema or {"type": "object"}


@cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


class ToolCallCtx(BaseModel):
    """A call the person is asked about (in flight at a crash, or waiting for approval), and where to resume."""

    server: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    idempotent: bool = False
    next_step: str = "tool.on_result"
    reason: str = ""
    resume_context: dict[str, Any] = Field(default_factory=dict, description="next_step's context")


def _list(ctx: StepContext, args: ListArgs) -> str:
    files = ctx.memory.list(args.prefix)
    if not files:
        return f"No files under {args.prefix or 'the memory space'}."
    return "\n".join(f"- {f.path} ({f.size} bytes, {f.content_type}, by {f.node_id or 'the person'})"
                     for f in files)


def _read(ctx: StepContext, args: ReadArgs) -> str:
    return ctx.memory.read(args.path)


def _write(ctx: StepContext, args: WriteArgs) -> str:
    file = ctx.memory.write(args.path, args.content, title=args.title)
    ctx.update(context_up={**ctx.context_up, "files": [*ctx.node.context_up.get("files", []), file.path]})
    return f"Wrote {file.path} ({file.size} bytes)."


def _search(ctx: StepContext, args: SearchArgs) -> str:
    hits = ctx.memory.search(args.query)
    if not hits:
        return f"Nothing in the memory space matches {args.query!r}."
    out: list[str] = []
    for h in hits:
        out.append(f"- {h.path}" + "".join(f"\n  > {line}" for line in h.lines))
    return "\n".join(out)


MEMORY_TOOLS = (
    Tool("memory.list", "List the files of the swarm's shared memory space (optionally under a folder).",
         ListArgs, ("prefix",), _list),
    Tool("memory.read", "Read a text file of the swarm's shared memory space.", ReadArgs, ("path",), _read),
    Tool("memory.write", "Write (create or replace) a text file in the swarm's shared memory space.", WriteArgs,
         ("path", "content"), _write, read_only=False),
    Tool("memory.search", "Search the swarm's shared memory space by file name and content.", SearchArgs,
         ("query",), _search),
)


def register(reg: Registry) -> None:
    def tool_of(ctx: StepContext) -> Tool:
        tool: Tool = reg.tools[ctx.node.action_id]
        return tool

    @reg.step("tool.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        tool = tool_of(ctx)
        directive = ctx.node.directive
        context = ctx.context()
        ctx.journal(f"Preparing a call of {tool.id}.")
        ctx.llm("tool.args", render("tool", "arguments", tool=tool.id, description=tool.description,
                                    schema=tool.schema, directive=directive, context=context.render()),
                next_step=on_args, context=data,
                facts={"directive": directive, "tool": tool.id, "positional": list(tool.positional)})

    @reg.step("tool.on_args", result=ToolArguments)
    def on_args(ctx: StepContext, data: NoContext, result: ToolArguments) -> None:
        tool = tool_of(ctx)
        if tool.remote is not None:
            allowed = ctx.config.mcp_servers
            if allowed is not None and tool.remote[0] not in allowed:  # routed here only by a stale plan
                ctx.fail(f"{tool.id} is not among the tools this swarm's config allows")
                return
            shown = ", ".join(f"{k}={short(v)}" for k, v in result.arguments.items())
            call = ToolCallCtx(server=tool.remote[0], name=tool.remote[1], arguments=result.arguments,
                               idempotent=tool.idempotent, reason=result.reason)
            policy = policy_for(tool, ctx.auto_approved)
            if policy == "deny":
                ctx.journal(f"{tool.id} is denied by the operator's policy.")
                ctx.fail(f"{tool.id} is not allowed (the operator's policy denies it)")
                return
            if policy == "ask":
                ctx.journal(f"Asking the person to approve {tool.id}({shown}).")
                ctx.ask(approval_text(tool.id, result.arguments, result.reason), next_step=on_approval,
                        context=call)
                return
            ctx.journal(f"Calling {tool.id}({shown})" + (f": {result.reason}" if result.reason else "."))
            ctx.call_tool(call.server, call.name, call.arguments, idempotent=call.idempotent,
                          next_step=on_result, context=data)
            return
        assert tool.arguments is not None and tool.run is not None
        try:
            args = tool.arguments.model_validate(result.arguments)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                                 for e in exc.errors())
            ctx.journal(f"The arguments for {tool.id} are invalid: {problems}")
            ctx.fail(f"invalid arguments for {tool.id}: {problems}")
            return
        shown = ", ".join(f"{k}={short(v)}" for k, v in args.model_dump(exclude_none=True).items())
        ctx.journal(f"Calling {tool.id}({shown})" + (f": {result.reason}" if result.reason else "."))
        try:
            output = tool.run(ctx, args)
        except SwarmError as exc:  # InvalidInput, MemoryFileNotFound, FileTooLarge: the node fails with why
            ctx.journal(f"{tool.id} failed: {exc}")
            ctx.fail(f"{tool.id} failed: {exc}")
            return
        finish(ctx, tool, output)

    def finish(ctx: StepContext, tool: Tool, output: str) -> None:
        if len(output) > MAX_RESULT_CHARS:
            output = output[:MAX_RESULT_CHARS] + f"\n\n… (cut at {MAX_RESULT_CHARS} characters)"
        ctx.journal(f"{tool.id} returned {len(output)} characters.")
        ctx.complete(output, context_up={**ctx.context_up, "tool": tool.id})

    @reg.step("tool.on_result", result=ToolOutcome)
    def on_result(ctx: StepContext, data: NoContext, result: ToolOutcome) -> None:
        tool = tool_of(ctx)
        if result.error:
            ctx.fail(result.error)
            return
        text = result.text
        if result.blob_key:
            text = ctx.read_blob(result.blob_key).decode("utf-8", "replace")
        if result.is_error:
            ctx.fail(f"{tool.id} returned an error: {short(text, 500)}")
            return
        finish(ctx, tool, text)

    @reg.step("tool.on_approval", context=ToolCallCtx, result=UserReply)
    def on_approval(ctx: StepContext, data: ToolCallCtx, result: UserReply) -> None:
        word, reason = deny_reason(result.content)
        tool_id = f"{data.server}.{data.name}"
        if word in APPROVE_WORDS:  # the person's yes is the chat's record, as in the tool loop (actions/toolloop.py)
            ctx.close_chat()
            ctx.journal(f"The person approved {tool_id}.")
            ctx.call_tool(data.server, data.name, data.arguments, idempotent=data.idempotent,
                          next_step=reg.get_step(data.next_step), context=NoContext())
            return
        ctx.say("Understood; I will not call it.")
        ctx.close_chat()
        ctx.journal(f"The person denied {tool_id}" + (f": {reason}" if reason else "."))
        ctx.complete(f"The person denied the call of {tool_id}" + (f": {reason}" if reason else "."),
                     context_up={**ctx.node.context_up, "tool": tool_id, "denied": True, "reason": reason})

    @reg.step("tool.in_doubt", context=ToolCallCtx)
    def in_doubt(ctx: StepContext, data: ToolCallCtx, result: None) -> None:
        args = ", ".join(f"{k}={short(v)}" for k, v in data.arguments.items())
        ctx.journal(f"The call of {data.server}.{data.name} was in flight when its worker stopped.")
        ctx.ask(f"The call of `{data.server}.{data.name}`({args}) was running when the worker stopped, so I cannot "
                "tell whether it took effect. Should I run it again? Answer **yes** or **no**.",
                next_step=on_rerun, context=data)

    @reg.step("tool.on_rerun", context=ToolCallCtx, result=UserReply)
    def on_rerun(ctx: StepContext, data: ToolCallCtx, result: UserReply) -> None:
        step = reg.get_step(data.next_step)
        resume = step.load_context(data.resume_context)
        if result.content.strip().lower().startswith("y"):
            ctx.say("Running it again.")
            ctx.close_chat()
            ctx.call_tool(data.server, data.name, data.arguments, idempotent=data.idempotent,
                          next_step=step, context=resume)
            return
        ctx.say("I will not run it again.")
        ctx.close_chat()
        # the step that waited for the result gets why there is none (a tool node fails with it; a tool-using
        # loop tells the model)
        ctx.run(step, resume, ToolOutcome(is_error=True, error=f"{data.server}.{data.name} was interrupted and the "
                                         "person chose not to run it again"))

    for tool in MEMORY_TOOLS:
        add_tool(reg, tool, folder="memory",
                 folder_description="The swarm's shared files: list, read, write and search them.")


def add_tool(reg: Registry, tool: Tool, *, folder: str, folder_description: str) -> None:
    reg.tools[tool.id] = tool
    reg.register_action(ActionSpec(id=tool.id, description=tool.description or tool.id, action_type=ActionType.DO,
                                   entry_step="tool.start"), folder=folder, folder_description=folder_description)


def register_mcp_tools(reg: Registry, listed: dict[str, list[McpTool]], config: McpConfig) -> None:
    """Each operator server a folder of the action space, each of its tools an action ``<server>.<tool>``."""
    for server, tools in listed.items():
        for t in tools:
            cfg = config.servers[server]
            policy = cfg.policy.get(t.name) or cfg.policy.get("*") or ("auto" if t.read_only else "ask")
            add_tool(reg, Tool(t.action_id, t.description, None, (), None, read_only=t.read_only,
                               input_schema=t.input_schema, remote=(server, t.name), idempotent=t.idempotent,
                               policy=policy),
                     folder=server, folder_description=f"Tools of the MCP server {server!r}")


def replace_mcp_tools(reg: Registry, server: str, tools: list[McpTool], config: McpConfig) -> None:
    """A server's tools listed again (it reported a change): its folder's actions become exactly ``tools``."""
    gone = [i for i, t in reg.tools.items() if getattr(t, "remote", None) and t.remote[0] == server]
    for tool_id in gone:
        del reg.tools[tool_id]
        reg.actions.pop(tool_id, None)
    folder = next((f for f in reg.space.root.folders if f.id == server), None)
    if folder is not None:
        folder.actions = []
    register_mcp_tools(reg, {server: tools}, config)


def policy_for(tool: Tool, auto_approve: Sequence[str]) -> str:
    """The tool's policy in one swarm: the person's auto-approve switch (``SwarmState.auto_approve``, a tool id or
    ``*``) relaxes ``ask`` to ``auto``; ``deny`` stays ``deny``."""
    if tool.policy == "ask" and ("*" in auto_approve or tool.id in auto_approve):
        return "auto"
    return tool.policy


def pending_approval(next_step: str, context: dict[str, Any]) -> str | None:
    """The tool id a node's user continuation waits to have approved, or None when it waits for no approval."""
    if next_step == "tool.on_approval":
        return f"{context.get('server')}.{context.get('name')}"
    if next_step == "tools.on_approval":
        current = context.get("current") or {}
        name = str(current.get("name", ""))
        return str((context.get("functions") or {}).get(name, name)) or None
    return None


def approval_text(tool_id: str, arguments: dict[str, Any], reason: str) -> str:
    """The question an ``ask`` policy posts in the node's chat: the tool, its arguments and why."""
    why = f"\n\nWhy: {reason}" if reason else ""
    try:
        shown = orjson.dumps(arguments, option=orjson.OPT_INDENT_2).decode()
    except TypeError:  # what orjson does not write (an integer past 64 bits, say): as json does
        shown = json.dumps(arguments, indent=2, ensure_ascii=False)
    return (f"May I call `{tool_id}` with these arguments?\n\n```json\n"
            f"{shown[:4000]}\n```{why}\n\n"
            "Answer **yes** to approve, or **no** (with a reason, if you like) to deny.")


def loads_arguments(text: str) -> Any:
    """A call's arguments (JSON text) parsed as json reads them (``json.JSONDecodeError`` when it cannot), by orjson
    when that reads them the same: not a text with 19 digits in a row (orjson reads an integer past 64 bits as a
    float), nor one it refuses (NaN)."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


_LONG_DIGITS = re.compile(r"\d{19}")


def deny_reason(answer: str) -> tuple[str, str]:
    """A reply to an approval request: its first word (lower case) and, for a denial, the reason given
    (``no, not that file`` -> ``not that file``; free text is the reason as a whole)."""
    answer = answer.strip()
    word = answer.lower().split()[0].strip(".,!:;") if answer else ""
    reason = answer[len(word):].strip(" .,:;-") if word in DENY_WORDS else answer
    return word, reason


def short(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit] + "…"
