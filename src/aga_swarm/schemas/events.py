"""Swarm events, state and history: state is the fold of history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, GetJsonSchemaHandler, TypeAdapter, model_validator, with_config
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypedDict

from .chat import Attachment, ChatStatus, ChatSummary, Message, MessageRole
from .common import Model
from .ops import Continuation, ContinuationKind
from .spaces import ActionType, MemoryFile
from .swarm import Lifecycle, Node, SwarmStatus, Usage


class EventType(StrEnum):
    """What happened; each type's ``data`` is typed below (``EVENT_DATA``) and in docs/api-contract.md."""

    SWARM_STATUS = "swarm_status"
    NODE_SPAWNED = "node_spawned"
    NODE_UPDATED = "node_updated"
    CHAT_UPDATED = "chat_updated"
    MESSAGE_POSTED = "message_posted"
    JOURNAL = "journal"
    LLM_CALL = "llm_call"
    USAGE = "usage"
    MEMORY_WRITTEN = "memory_written"
    TOOL_CALL = "tool_call"  # a developer-log record: changes no state
    AUTO_APPROVE = "auto_approve"  # the person's per-swarm switch ("*" is every tool)


# ---- event payloads: one TypedDict per type (the JSON an event carries in ``data``) --------------------------
# They describe the wire and are checked in tests (tests/test_event_payloads.py validates every event of a run);
# the engine builds plain dicts on its hot path. Unknown keys are rejected, so the contract cannot drift.
_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class SwarmStatusData(TypedDict):
    status: SwarmStatus
    reason: str | None


@with_config(_STRICT)
class NodeSpawnedData(TypedDict):
    node: Node


@with_config(_STRICT)
class ContinuationDelta(TypedDict, total=False):
    """A node's new continuation as the fields that differ from its previous one (``continuation_delta``): the
    continuation is the previous one (when it had none: ``{node_id: the event's node_id, request: {}, context:
    {}}``) with ``created_at`` set to the event's ``ts`` and then these fields set (``engine/fold.py``)."""

    node_id: str
    kind: ContinuationKind
    request: dict[str, Any]
    context: dict[str, Any]
    next_step: str
    token: str
    created_at: datetime


@with_config(_STRICT)
class NodeChanges(TypedDict, total=False):
    """The ``Node`` fields an update sets (the same names and types; ``updated_at`` is the event's ``ts``). A new
    continuation comes as ``continuation_delta`` (what changed since the node's previous one); ``continuation``
    is then only ``null`` (none any more), or a whole continuation in histories written before the deltas."""

    id: str
    swarm_id: str
    parent_id: str | None
    children: list[str]
    needs: list[str]
    needed_by: list[str]
    depth: int
    action_id: str
    action_type: ActionType
    directive: str
    title: str
    lifecycle: Lifecycle
    termination_policy: str
    report: str | None
    failure_reason: str | None
    context_down: dict[str, Any]
    context_up: dict[str, Any]
    chat_id: str
    replans: int
    attempt: int
    inbox: list[str]
    attachments: list[Attachment]
    continuation: Continuation | None
    continuation_delta: ContinuationDelta
    created_at: datetime
    updated_at: datetime


@with_config(_STRICT)
class NodeUpdatedData(TypedDict):
    changes: NodeChanges


@with_config(_STRICT)
class ChatChanges(TypedDict, total=False):
    """The ``ChatSummary`` fields an update sets (the same names and types)."""

    id: str
    node_id: str
    title: str
    status: ChatStatus
    message_count: int
    last_message: str | None
    last_role: MessageRole | None
    awaiting_since: datetime | None
    followups: int


@with_config(_STRICT)
class ChatUpdatedData(TypedDict):
    chat_id: str
    changes: ChatChanges


@with_config(_STRICT)
class MessagePostedData(TypedDict):
    message: Message


@with_config(_STRICT)
class JournalData(TypedDict):
    step: str
    text: str


@with_config(_STRICT)
class LLMCallData(TypedDict):
    id: str
    step: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    error: str | None


@with_config(_STRICT)
class UsageDelta(TypedDict, total=False):
    """Counters of ``Usage`` to add to."""

    llm_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    nodes: int
    replans: int


@with_config(_STRICT)
class UsageData(TypedDict):
    delta: UsageDelta


@with_config(_STRICT)
class MemoryWrittenData(TypedDict):
    path: str
    title: str
    size: int
    content_type: str
    node_id: str | None


@with_config(_STRICT)
class ToolCallData(TypedDict):
    id: str
    step: str
    tool: str
    latency_ms: float
    bytes: int
    error: bool


@with_config(_STRICT)
class AutoApproveData(TypedDict):
    tool: str
    enabled: bool


EVENT_DATA: dict[EventType, type] = {
    EventType.SWARM_STATUS: SwarmStatusData,
    EventType.NODE_SPAWNED: NodeSpawnedData,
    EventType.NODE_UPDATED: NodeUpdatedData,
    EventType.CHAT_UPDATED: ChatUpdatedData,
    EventType.MESSAGE_POSTED: MessagePostedData,
    EventType.JOURNAL: JournalData,
    EventType.LLM_CALL: LLMCallData,
    EventType.USAGE: UsageData,
    EventType.MEMORY_WRITTEN: MemoryWrittenData,
    EventType.TOOL_CALL: ToolCallData,
    EventType.AUTO_APPROVE: AutoApproveData,
}


class SwarmEvent(Model):
    """An event as the engine builds it (``data`` a plain dict, for speed). Its JSON Schema, and so the OpenAPI
    document and the web app's types, is ``TypedSwarmEvent``: the union of one model per type."""

    swarm_id: str
    seq: int
    ts: datetime
    type: EventType
    node_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(_typed_events().core_schema)


# ---- the typed events: the wire contract, a union discriminated by ``type`` ---------------------------------
class _TypedEvent(Model):
    swarm_id: str
    seq: int
    ts: datetime
    node_id: str | None = None


class SwarmStatusEvent(_TypedEvent):
    type: Literal[EventType.SWARM_STATUS]
    data: SwarmStatusData


class NodeSpawnedEvent(_TypedEvent):
    type: Literal[EventType.NODE_SPAWNED]
    data: NodeSpawnedData


class NodeUpdatedEvent(_TypedEvent):
    type: Literal[EventType.NODE_UPDATED]
    data: NodeUpdatedData


class ChatUpdatedEvent(_TypedEvent):
    type: Literal[EventType.CHAT_UPDATED]
    data: ChatUpdatedData


class MessagePostedEvent(_TypedEvent):
    type: Literal[EventType.MESSAGE_POSTED]
    data: MessagePostedData


class JournalEvent(_TypedEvent):
    type: Literal[EventType.JOURNAL]
    data: JournalData


class LLMCallEvent(_TypedEvent):
    type: Literal[EventType.LLM_CALL]
    data: LLMCallData


class UsageEvent(_TypedEvent):
    type: Literal[EventType.USAGE]
    data: UsageData


class MemoryWrittenEvent(_TypedEvent):
    type: Literal[EventType.MEMORY_WRITTEN]
    data: MemoryWrittenData


class ToolCallEvent(_TypedEvent):
    type: Literal[EventType.TOOL_CALL]
    data: ToolCallData


class AutoApproveEvent(_TypedEvent):
    type: Literal[EventType.AUTO_APPROVE]
    data: AutoApproveData


TypedSwarmEvent = Annotated[
    SwarmStatusEvent | NodeSpawnedEvent | NodeUpdatedEvent | ChatUpdatedEvent | MessagePostedEvent | JournalEvent
    | LLMCallEvent | UsageEvent | MemoryWrittenEvent | ToolCallEvent | AutoApproveEvent,
    Field(discriminator="type"),
]


@cache
def _typed_events() -> TypeAdapter[TypedSwarmEvent]:
    return TypeAdapter(TypedSwarmEvent)


def validate_event(event: SwarmEvent | dict[str, Any]) -> _TypedEvent:
    """The typed form of an event (its JSON, as the socket and the history send it); a ValidationError when its
    payload does not match its type's."""
    body = event.model_dump(mode="json") if isinstance(event, SwarmEvent) else event
    return _typed_events().validate_python(body)


class SwarmState(Model):
    swarm_id: str
    seq: int = 0
    status: SwarmStatus = SwarmStatus.DRAFT
    failure_reason: str | None = None
    root_node_id: str | None = None
    nodes: dict[str, Node] = Field(default_factory=dict)
    chats: dict[str, ChatSummary] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    memory: dict[str, MemoryFile] = Field(default_factory=dict, description="The memory space's files by path")
    auto_approve: list[str] = Field(default_factory=list, description=(
        "Tools (ids, or `*` for every tool) whose `ask` policy the person relaxed to `auto` for this swarm "
        "(`auto_approve` events; the swarm row's column of that name)"))

    @model_validator(mode="before")
    @classmethod
    def _auto_approve_from_usage(cls, data: Any) -> Any:
        """A state saved before migration 0011 (a snapshot) kept the switch in ``usage``."""
        if isinstance(data, dict) and isinstance(data.get("usage"), dict) and "auto_approve" in data["usage"]:
            usage = dict(data["usage"])
            data = {**data, "usage": usage, "auto_approve": usage.pop("auto_approve")}
        return data


class SwarmHistory(Model):
    swarm_id: str
    events: list[SwarmEvent]
    first_seq: int = Field(1, description="Seq of the earliest retained event (older ones may be compacted)")
    last_seq: int = 0
