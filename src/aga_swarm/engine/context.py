"""The engine's side of ``aga_swarm.sdk.StepContext``: ``StepRuntime`` carries out what a step does as events in
the step's transaction (``SwarmTx``), and collects the changes to its node. Steps see only the Protocol."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, TypeAdapter

from ..schemas import (
    TERMINAL_LIFECYCLES,
    ActionSpec,
    Attachment,
    ChatStatus,
    Continuation,
    ContinuationKind,
    Lifecycle,
    Limits,
    MessageRole,
    Node,
    OperationKind,
    PromptMessage,
    SwarmConfig,
)
from ..sdk.plans import Subtask, check_plan
from ..sdk.registry import Registry
from ..sdk.steps import AnyStep, Step
from ..sdk.types import (
    GOAL_IN_PROMPT,
    ChildOutcome,
    ChildrenResult,
    NodeContext,
    Prerequisite,
    ToolOutcome,
    UserReply,
    files_of,
)
from ..store.codec import new_continuation, new_node, trusted
from ..store.payloads import REF
from . import keys
from . import limits as lim_checks
from .deps import start_lifecycle
from .errors import InvalidPlan
from .tx import SwarmTx

if TYPE_CHECKING:
    from ..store.blob import BlobStore
    from ..store.payloads import RequestStore
    from .memory import MemoryAccess


@dataclass
class Services:
    registry: Registry
    blobs: BlobStore
    requests: RequestStore


__all__ = ["GOAL_IN_PROMPT", "ChildOutcome", "ChildrenResult", "NodeContext", "Prerequisite", "Services",
           "StepRuntime", "UserReply", "files_of", "spawn_node"]


class StepRuntime:
    """A step's context as the engine runs it (it implements ``aga_swarm.sdk.StepContext``). ``changes`` are the
    node's fields the step changes, applied when it returns; ``continued`` says that it continued or ended."""

    def __init__(self, tx: SwarmTx, node_id: str, step: str, config: SwarmConfig, services: Services) -> None:
        self.tx = tx
        self.node_id = node_id
        self.step = step
        self.config = config
        self.services = services
        self.changes: dict[str, Any] = {}
        self.continued = False

    # ---- reading ------------------------------------------------------------------------------
    @property
    def node(self) -> Node:
        return self.tx.node(self.node_id)

    @property
    def limits(self) -> Limits:
        return self.config.limits

    @property
    def action(self) -> ActionSpec:
        return self.services.registry.get_action(self.node.action_id)

    def context(self) -> NodeContext:
        """The context this node works in: the swarm's goal, its parent's directive, and the reports and
        files of the subtasks it needs (``Node.needs``), and nothing else. The built-in prompts render it
        (``NodeContext.render``); custom actions read it here."""
        node = self.node
        parent = self.tx.node(node.parent_id) if node.parent_id is not None else None
        inputs = [Prerequisite(id=p.id, directive=p.directive, report=p.report, files=files_of(p.context_up),
                               data=p.context_up)
                  for p in (self.tx.node(n) for n in node.needs)]
        return NodeContext(goal=self.tx.swarm.goal, directive=node.directive,
                           parent_directive=parent.directive if parent is not None else None, inputs=inputs,
                           attachments=self.attachments())

    def attachments(self) -> list[Attachment]:
        """The files the person gave this node and its ancestors (the goal's are the root's), each path once."""
        from .attachments import received

        chain: list[list[Attachment]] = []
        node: Node | None = self.node
        while node is not None:
            chain.append(node.attachments)
            node = self.tx.node(node.parent_id) if node.parent_id is not None else None
        return received(reversed(chain))

    def children_outcomes(self) -> list[ChildOutcome]:
        return [trusted(ChildOutcome, {  # typed values from the nodes, every field: nothing to validate
            "id": c.id, "directive": c.directive, "action_id": c.action_id, "lifecycle": c.lifecycle,
            "report": c.report, "failure_reason": c.failure_reason, "context_up": c.context_up})
            for c in self.tx.children(self.node)]

    @property
    def context_up(self) -> dict[str, Any]:
        """The node's context_up with this step's changes so far (a copy)."""
        return {**self.node.context_up, **self.changes.get("context_up", {})}

    @property
    def auto_approved(self) -> Sequence[str]:
        """The tool ids (or ``*``) the person lets this swarm call without asking (``SwarmState.auto_approve``)."""
        return self.tx.state.auto_approve

    def read_blob(self, key: str) -> bytes:
        return self.services.blobs.get(key)

    def stored_request(self, key: str) -> dict[str, Any]:
        return self.services.requests.get(self.tx.conn, self.tx.swarm_id, key)

    @property
    def inbox(self) -> list[str]:
        """What a person told this node (``SwarmService.tell_node``) that it has not received yet."""
        return list(self.changes.get("inbox", self.node.inbox))

    def take_inbox(self) -> list[str]:
        """Receive what a person told this node: returned once, then cleared with the step's other changes.
        ``llm`` does this itself (the call's prompt gets it); a custom step that calls no model can use it."""
        told = self.inbox
        if told:
            self.changes["inbox"] = []
            self.journal("Received from the person: " + " / ".join(told))
        return told

    # ---- narrative ----------------------------------------------------------------------------
    def journal(self, text: str) -> None:
        self.tx.journal(self.node_id, self.step, text)

    def say(self, content: str, *, attachments: Sequence[str] = ()) -> None:
        """Post an agent message in this node's chat (no reply expected), citing memory-space files by path."""
        chat = self.tx.chat(self.node.chat_id)
        self.tx.post_message(chat.id, MessageRole.AGENT, content, attachments=self.cite(attachments))
        if chat.status is ChatStatus.IDLE:
            self.tx.update_chat(chat.id, status=ChatStatus.OPEN)

    def close_chat(self) -> None:
        chat = self.tx.chat(self.node.chat_id)
        if chat.status is not ChatStatus.CLOSED:
            self.tx.update_chat(chat.id, status=ChatStatus.CLOSED, awaiting_since=None)

    def set_followups(self, count: int) -> None:
        self.tx.update_chat(self.node.chat_id, followups=count)

    def add_usage(self, **delta: int) -> None:
        self.tx.add_usage(**delta)

    def record_tool_call(self, tool_id: str, arguments: dict[str, Any], result: str, *, step: str, error: bool,
                         ms: float) -> None:
        from .toolcall import record_tool_call

        record_tool_call(self.tx, self.services.blobs, self.node_id, step, tool_id, arguments, result, error=error,
                         ms=ms)

    def save_tool_result(self, tool_id: str, text: str) -> str | None:
        from .toolcall import save_result

        return save_result(self.tx, self.services.blobs, self.node_id, tool_id, text)

    # ---- continuing ---------------------------------------------------------------------------
    def _continue(self, kind: ContinuationKind, next_step: AnyStep, context: BaseModel,
                  request: dict[str, Any], lifecycle: Lifecycle) -> Continuation:
        if self.continued:
            raise RuntimeError(f"step {self.step!r} continued twice")
        name = next_step.name  # the durable identity the continuation stores
        self.services.registry.get_step(name)  # fail now, not at resume time
        self.continued = True
        token = self.tx.continuation_token(self.node_id)
        fast = _json_context(type(context))  # a context that dumps itself faster (the tool loop's, every turn)
        cont = new_continuation(self.node_id, kind, request,
                                context.model_dump(mode="json") if fast is None else fast(context), name, token,
                                self.tx.now)
        self.changes.update(lifecycle=lifecycle, continuation=cont)
        return cont

    def cite(self, paths: Sequence[str]) -> list[Attachment]:
        """Attachments for files of the memory space, by path (InvalidInput for a path with no file)."""
        if not paths:
            return []
        from .attachments import cite

        return cite(self.memory, paths)

    def llm(self, purpose: str, messages: list[PromptMessage] | list[dict[str, Any]], *, next_step: AnyStep,
            context: BaseModel, facts: dict[str, Any] | None = None, take_inbox: bool = True,
            attachments: bool | None = None, tools: Sequence[str] | None = None,
            save_tool_results: bool = False) -> None:
        """Ask the model; ``next_step`` (whose registered result model is the output schema) gets the answer.
        What a person told the node since its last call is appended to the prompt (``take_inbox``), unless
        ``take_inbox`` is false (routing leaves it for the action it hands over to). The files the person gave
        the node (``attachments()``) come with it too (text as text, images as image inputs), unless
        ``attachments`` is false (by default it follows ``take_inbox``).

        ``tools`` (tool action ids, e.g. ``self.tools()``) makes it a tool-using loop: the model is given those
        tools as functions; each call it makes is an operation whose result is committed before the model sees
        it (``actions/toolloop.py``), under the tool's approval policy, until it answers without calls or the
        node has made ``limits.max_tool_calls`` calls; then ``next_step`` gets the answer. With
        ``save_tool_results`` every result is also saved in the memory space (results over 16 KB always are)."""
        if tools is not None:
            loop = self.services.registry.tool_loop
            if loop is None:
                raise RuntimeError("no tool loop is registered (register_builtins registers it)")
            loop(self, purpose, messages, tools=list(tools), next_step=next_step, context=context, facts=facts,
                 save_results=save_tool_results)
            return
        self.llm_turn(purpose, messages, next_step=next_step, context=context, facts=facts, take_inbox=take_inbox,
                      attachments=attachments)

    def llm_turn(self, purpose: str, messages: list[PromptMessage] | list[dict[str, Any]], *, next_step: AnyStep,
                 context: BaseModel, facts: dict[str, Any] | None = None, take_inbox: bool = True,
                 attachments: bool | None = None, output_step: AnyStep | None = None,
                 functions: list[dict[str, Any]] | None = None,
                 stored: Callable[[str], None] | None = None, validated: bool = False,
                 extends: tuple[str, int] | None = None) -> None:
        """One model call (``llm`` without tools). For a turn of a tool-using loop: ``functions`` are offered
        to the model, ``output_step``'s result model is the schema of its final answer, ``next_step`` (the
        loop's) receives a ``loop_turn`` (the calls, or that answer), and ``stored`` is called with the key of
        the stored request before ``context`` is (the loop keeps its conversation by that reference).
        ``validated``: ``messages`` are dicts as ``PromptMessage`` dumps them (``exclude_none``), e.g. a stored
        request's and the loop's own turns: not validated and dumped again (a conversation grows every turn).
        ``extends`` (key, n): the first n messages are the stored request ``key``'s (as ``stored_request`` gave
        them): the request is stored as a delta over that one (``store/payloads.py``)."""
        answered = output_step or next_step
        result_model = answered.result
        if result_model is None:
            raise RuntimeError(f"step {answered.name!r} declares no result model to receive an LLM answer")
        prompts: list[PromptMessage] = [] if validated else _PROMPTS.validate_python(messages)
        told = self.take_inbox() if take_inbox else []
        if told:  # what the person said since this node's last model call: this call gets it
            prompts.append(PromptMessage(role="user", content="The person you work for told you this while you "
                                         "worked; take it into account:\n" + "\n".join(f"- {t}" for t in told)))
            facts = {**(facts or {}), "told": told}
        images: list[Attachment] = []
        files = self.attachments() if (take_inbox if attachments is None else attachments) else []
        if files:
            from .attachments import model_input

            given = model_input(files, self.memory.read)
            prompts.append(PromptMessage(role="user", content=given.text))
            images = given.images
            facts = {**(facts or {}), "attachments": given.facts}
        dumped: list[dict[str, Any]] = _PROMPTS.dump_python(prompts, exclude_none=True)
        if validated:
            dumped = [*cast("list[dict[str, Any]]", messages), *dumped]  # dicts, as the caller says
        schema = _schema_json(result_model)
        if functions:
            schema += _functions_json(functions)
        worst = lim_checks.worst_case_tokens(self.config.llm, dumped, schema)
        if images:
            from .attachments import IMAGE_TOKENS

            worst = (worst[0] + IMAGE_TOKENS * len(images) * max(1, worst[1] // max(1, self.config.llm.max_tokens)),
                     worst[1])
        held = lim_checks.check_call(self.tx.state, self.limits, self.config.llm, self.node_id, worst)
        request: dict[str, Any] = {"purpose": purpose, "messages": dumped, "output_schema": _schema_of(result_model),
                                   "schema_name": result_model.__name__, "facts": facts or {}}
        if images:
            request["images"] = [a.model_dump(mode="json") for a in images]
        if functions is not None:
            request["tools"] = functions
        key = self.tx.store_request(self.services.requests, request, extends)  # stored once, by content
        if stored is not None:
            stored(key)
        held_request: dict[str, Any] = {REF: key, "purpose": purpose, "reserve": held}
        if output_step is not None:
            held_request["output_step"] = output_step.name
        cont = self._continue(ContinuationKind.LLM, next_step, context, held_request, Lifecycle.WAITING_LLM)
        self.tx.enqueue(OperationKind.LLM_CALL, self.node_id, keys.llm_call_key(cont.token), {"token": cont.token})

    def tools(self) -> list[str]:
        """The tools this node may use (action ids): the built-in memory tools and those of the operator's MCP
        servers its swarm's config picks, except the ones the operator's policy denies."""
        allowed = self.config.mcp_servers
        out: list[str] = []
        for tool_id, tool in self.services.registry.tools.items():
            remote = getattr(tool, "remote", None)
            if getattr(tool, "policy", "auto") == "deny":
                continue
            if remote is not None and allowed is not None and remote[0] not in allowed:
                continue
            out.append(tool_id)
        return out

    def ask(self, content: str, *, next_step: Step[Any, UserReply], context: BaseModel,
            attachments: Sequence[str] = ()) -> None:
        """Ask the user in this node's chat, citing memory-space files by path (``attachments``). The node parks
        until a reply resumes it at ``next_step``."""
        request: dict[str, Any] = {"message": content, "posted": False}
        if attachments:
            request["attachments"] = [a.model_dump(mode="json") for a in self.cite(attachments)]
        cont = self._continue(ContinuationKind.USER, next_step, context, request, Lifecycle.RUNNING)
        self.tx.enqueue(OperationKind.USER_PROMPT, self.node_id, keys.user_prompt_key(cont.token),
                        {"token": cont.token})

    def call_tool(self, server: str, tool: str, arguments: dict[str, Any], *, idempotent: bool,
                  next_step: Step[Any, ToolOutcome], context: BaseModel) -> None:
        """Call an MCP tool as an operation of its own (``tool_call``): the call runs outside any transaction,
        its result is committed, then ``next_step`` gets it (a ``ToolOutcome``). A call that was in flight when a
        worker died is made again only if ``idempotent``; otherwise the node asks the person first."""
        request = {"tool": {"server": server, "name": tool, "arguments": arguments, "idempotent": idempotent},
                   "started": False}
        cont = self._continue(ContinuationKind.TOOL, next_step, context, request, Lifecycle.RUNNING)
        self.tx.enqueue(OperationKind.TOOL_CALL, self.node_id, keys.tool_call_key(cont.token), {"token": cont.token})

    def goto(self, next_step: Step[Any, None], context: BaseModel, *, action: ActionSpec | None = None) -> None:
        """Chain to another step of this node as a separate operation (optionally becoming another action)."""
        if action is not None:
            self.changes.update(action_id=action.id, action_type=action.action_type,
                                termination_policy=action.termination_policy)
        cont = self._continue(ContinuationKind.STEP, next_step, context, {}, Lifecycle.RUNNING)
        self.tx.enqueue(OperationKind.STEP, self.node_id, keys.step_key(cont.token), {"token": cont.token})

    def spawn(self, directive: str, *, action_id: str = "route", title: str | None = None,
              context_down: dict[str, Any] | None = None, needs: Sequence[str] = ()) -> str:
        """Create a child running ``action_id``. ``needs``: ids of this node's children (already spawned) whose
        results the new child needs; it waits (``waiting_deps``) until they are all done, and is cancelled if
        one of them fails or is cancelled. Returns the child's id."""
        if not needs and title is None and not context_down and type(directive) is str:
            return self._spawn_plain(directive, action_id)
        needs = list(dict.fromkeys(needs))
        if needs:
            parent = self.node
            known = set(parent.children)
            unknown = [n for n in needs if n not in known]
            if unknown:
                raise InvalidPlan(f"a subtask of {parent.id} needs {', '.join(unknown)}, which "
                                  f"{'is not a subtask' if len(unknown) == 1 else 'are not subtasks'} of "
                                  f"{parent.id}")
        child_id = self._spawn(directive, action_id, title, context_down or {}, needs, [])
        for prerequisite in needs:  # it is released when they end (Node.needed_by)
            node = self.tx.node(prerequisite)
            self.tx.update_node(prerequisite, needed_by=[*node.needed_by, child_id])
        return child_id

    def spawn_plan(self, subtasks: Sequence[Subtask | str], *, action_id: str = "route") -> list[str]:
        """Spawn a plan's subtasks as children, in order. Each ``Subtask.needs`` lists the 1-based numbers of the
        subtasks of this same list it needs; a plan whose dependencies name an unknown number, the subtask
        itself or a cycle is refused (``InvalidPlan``) before anything is spawned. Returns the children's ids."""
        plan = [s if isinstance(s, Subtask) else Subtask(task=s) for s in subtasks]
        check_plan(plan)
        parent = self.node
        first = len(parent.children) + 1
        ids = [f"{parent.id}.{first + i}" for i in range(len(plan))]
        needed_by: list[list[str]] = [[] for _ in plan]
        for i, sub in enumerate(plan):
            for n in dict.fromkeys(sub.needs):
                needed_by[n - 1].append(ids[i])
        for i, sub in enumerate(plan):
            self._spawn(sub.task, action_id, None, {}, [ids[n - 1] for n in dict.fromkeys(sub.needs)], needed_by[i])
        return ids

    def _spawn(self, directive: str, action_id: str, title: str | None, context_down: dict[str, Any],
               needs: list[str], needed_by: list[str]) -> str:
        parent = self.node
        lim_checks.check_spawn(self.tx.state, self.limits, parent.id, parent.depth)
        action = self.services.registry.get_action(action_id)
        child_id = f"{parent.id}.{len(parent.children) + 1}"
        spawn_node(self.tx, child_id, parent.id, parent.depth + 1, action, directive, title, context_down,
                   needs=needs, needed_by=needed_by)
        return child_id

    def _spawn_plain(self, directive: str, action_id: str) -> str:
        """``_spawn`` of a child with no title, context or needs (``spawn_node``'s case without them, spelt out: a
        fan-out makes such children by the thousand)."""
        tx = self.tx
        parent = tx.node(self.node_id)
        parent_id = parent.id
        lim_checks.check_spawn(tx.state, self.config.limits, parent_id, parent.depth)
        action = self.services.registry.get_action(action_id)
        child_id = f"{parent_id}.{len(parent.children) + 1}"
        now = tx.now
        tx.spawned(new_node(
            id=child_id, swarm_id=tx.swarm_id, parent_id=parent_id, depth=parent.depth + 1, action_id=action.id,
            action_type=action.action_type, directive=directive, title=_title(directive),
            termination_policy=action.termination_policy, context_down={}, needs=[], needed_by=[], lifecycle=_SPAWNED,
            failure_reason=None, chat_id="chat-" + child_id, created_at=now, updated_at=now))
        tx.enqueue_spawn(child_id)
        return child_id

    def wait_children(self, next_step: Step[Any, ChildrenResult], context: BaseModel) -> None:
        if not self.node.children:
            raise RuntimeError("wait_children called with no children")
        cont = self._continue(ContinuationKind.CHILDREN, next_step, context, {}, Lifecycle.WAITING_CHILDREN)
        if all(c.lifecycle in TERMINAL_LIFECYCLES for c in self.tx.children(self.node)):
            self.tx.enqueue(OperationKind.TERMINATE, self.node_id, keys.children_check_key(cont.token), {"check": True})

    def update(self, **changes: Any) -> None:
        """Change node fields (context_up, title, ...) together with the step's other changes."""
        self.changes.update(changes)

    def run(self, step: Step[Any, Any], data: Any, result: Any) -> None:
        """Run another step now, as part of this one: it becomes the running step, and its changes land with
        this step's."""
        self.step = step.name
        step.fn(self, data, result)

    # ---- ending -------------------------------------------------------------------------------
    def complete(self, report: str, context_up: dict[str, Any] | None = None) -> None:
        if self.continued:
            raise RuntimeError(f"step {self.step!r} continued twice")
        self.continued = True
        self.changes.update(lifecycle=_DONE, report=report, continuation=None)
        if context_up is not None:
            self.changes["context_up"] = context_up

    def fail(self, reason: str) -> None:
        if self.continued:
            raise RuntimeError(f"step {self.step!r} continued twice")
        self.continued = True
        self.changes.update(lifecycle=Lifecycle.FAILED, failure_reason=reason, continuation=None)

    @property
    def memory(self) -> MemoryAccess:
        """The swarm's memory space: ``list(prefix)``, ``read(path)``, ``write(path, content)``,
        ``search(query)``; writes are this node's and commit with the step."""
        from .memory import MemoryAccess

        return MemoryAccess(self.tx, self.services.blobs, self.node_id)

    def save_artifact(self, name: str, content: str, content_type: str = "text/markdown") -> str:
        """Store a file in the swarm's memory space under ``artifacts/<node>/`` and list it in the node's
        context_up (path, title, type, size, blob key). Returns its blob key."""
        safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in name).strip()[:120] or "artifact"
        if "." not in safe.strip("."):
            safe += ".md"
        path = f"artifacts/{self.node_id}/{safe}"
        stored = self.memory.write(path, content, title=name, content_type=content_type)
        key = self.tx.memory_keys[stored.path]
        arts = [*self.node.context_up.get("artifacts", []),
                {"path": stored.path, "key": key, "title": name, "content_type": content_type, "size": stored.size}]
        self.changes["context_up"] = {**self.context_up, "artifacts": arts}
        return key


# Enum members read on the hot path, as module constants: on Python 3.11 ``EnumType`` defines ``__getattr__``,
# which puts every ``Kind.MEMBER`` read on a slow path (~0.2 µs; ``member.value`` is a descriptor written in
# Python, hence ``_value_``), and a fan-out reads a dozen per child (bench/RESULTS.md, "Fan-out, third pass").
_SPAWNED, _DONE = Lifecycle.SPAWNED, Lifecycle.DONE

def spawn_node(tx: SwarmTx, node_id: str, parent_id: str | None, depth: int, action: ActionSpec,
               directive: str, title: str | None, context_down: dict[str, Any], *,
               needs: list[str] | None = None, needed_by: list[str] | None = None) -> None:
    """Create a node (and its chat) and queue its spawn operation, unless it waits for ``needs`` (see
    ``engine.deps``)."""
    lifecycle, reason = start_lifecycle(tx, needs) if needs else (_SPAWNED, None)
    title = title or _title(directive)
    if type(directive) is str and type(title) is str and type(context_down) is dict and (not context_down or all(
            type(key) is str for key in context_down)):  # the types Node declares: nothing to validate
        node = new_node(id=node_id, swarm_id=tx.swarm_id, parent_id=parent_id, depth=depth, action_id=action.id,
                        action_type=action.action_type, directive=directive, title=title,
                        termination_policy=action.termination_policy, context_down=dict(context_down),
                        needs=list(needs or []), needed_by=list(needed_by or []), lifecycle=lifecycle,
                        failure_reason=reason, chat_id=f"chat-{node_id}", created_at=tx.now, updated_at=tx.now)
    else:
        node = Node(id=node_id, swarm_id=tx.swarm_id, parent_id=parent_id, depth=depth, action_id=action.id,
                    action_type=action.action_type, directive=directive, title=title,
                    termination_policy=action.termination_policy, context_down=context_down,
                    needs=list(needs or []), needed_by=list(needed_by or []), lifecycle=lifecycle,
                    failure_reason=reason, chat_id=f"chat-{node_id}", created_at=tx.now, updated_at=tx.now)
    tx.spawned(node)
    if lifecycle is _SPAWNED:
        tx.enqueue_spawn(node_id)


_PROMPTS = TypeAdapter(list[PromptMessage])  # a conversation validated and dumped in one call each, not per message


@cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


@cache
def _schema_json(model: type[BaseModel]) -> str:
    import json

    return json.dumps(_schema_of(model))


_FUNCTIONS_JSON: dict[tuple[int, ...], tuple[tuple[dict[str, Any], ...], str]] = {}


def _functions_json(functions: list[dict[str, Any]]) -> str:
    """The functions offered to the model as JSON (its length counts in the call's worst case). A tool-using loop
    offers the same definitions every turn (``toolloop.definition`` keeps them), so the text is kept by their
    identity, with the definitions themselves (an id is not reused while its object lives)."""
    key = tuple(map(id, functions))
    found = _FUNCTIONS_JSON.get(key)
    if found is None:
        import json

        if len(_FUNCTIONS_JSON) >= 256:
            _FUNCTIONS_JSON.clear()
        found = _FUNCTIONS_JSON[key] = (tuple(functions), json.dumps(functions))
    return found[1]


def _title(directive: str) -> str:
    if 0 < len(directive) <= 80 and directive.isprintable() and not (directive[0].isspace()
                                                                     or directive[-1].isspace()):
        return directive  # one line, nothing to strip, short enough: what the general case below gives
    line = directive.strip().splitlines()[0] if directive.strip() else "(empty)"
    return line[:80] + ("…" if len(line) > 80 else "")


_JSON_CONTEXT: dict[type, Callable[[Any], dict[str, Any]] | None] = {}


def _json_context(cls: type) -> Callable[[Any], dict[str, Any]] | None:
    """A context model's own ``json_context`` (its ``model_dump(mode="json")``, made faster), if it has one."""
    try:
        return _JSON_CONTEXT[cls]
    except KeyError:
        found = _JSON_CONTEXT[cls] = cls.__dict__.get("json_context")
        return found
