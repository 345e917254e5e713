"""The one wire contract: pydantic models shared by the engine, the CLI, the server and (via OpenAPI) the web app."""

from .api import ChatWithMessages, NodeDetail, SwarmSummary
from .chat import (
    Attachment,
    ChatStatus,
    ChatSummary,
    JournalEntry,
    LLMCall,
    LogEntryKind,
    Message,
    MessageRole,
    PromptMessage,
)
from .common import Model, utcnow
from .config import Limits, LLMSettings, SwarmConfig
from .events import EventType, SwarmEvent, SwarmHistory, SwarmState
from .ops import Continuation, ContinuationKind, Operation, OperationKind, OperationStatus
from .spaces import (
    ActionFolder,
    ActionFolderInfo,
    ActionInfo,
    ActionOrigin,
    ActionSpace,
    ActionSpec,
    ActionType,
    MemoryFile,
    MemoryHit,
    MemoryItem,
    MemoryListing,
    MemorySpace,
    SwarmActionSpace,
    TerminationPolicy,
)
from .swarm import TERMINAL_LIFECYCLES, Lifecycle, Node, Swarm, SwarmListItem, SwarmPage, SwarmStatus, Usage

__all__ = [
    "TERMINAL_LIFECYCLES",
    "ActionFolder",
    "ActionFolderInfo",
    "ActionInfo",
    "ActionOrigin",
    "ActionSpace",
    "ActionSpec",
    "ActionType",
    "Attachment",
    "ChatStatus",
    "ChatSummary",
    "ChatWithMessages",
    "Continuation",
    "ContinuationKind",
    "EventType",
    "JournalEntry",
    "LLMCall",
    "LLMSettings",
    "Lifecycle",
    "Limits",
    "LogEntryKind",
    "MemoryFile",
    "MemoryHit",
    "MemoryItem",
    "MemoryListing",
    "MemorySpace",
    "Message",
    "MessageRole",
    "Model",
    "Node",
    "NodeDetail",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "PromptMessage",
    "Swarm",
    "SwarmActionSpace",
    "SwarmConfig",
    "SwarmEvent",
    "SwarmHistory",
    "SwarmListItem",
    "SwarmPage",
    "SwarmState",
    "SwarmStatus",
    "SwarmSummary",
    "TerminationPolicy",
    "Usage",
    "all_json_schemas",
    "utcnow",
]


def all_json_schemas() -> dict[str, object]:
    """JSON Schema of every top-level wire model, for export (``aga-swarm schema``)."""
    models: list[type[Model]] = [SwarmConfig, Swarm, Node, Operation, Continuation, ChatSummary, Message, JournalEntry,
              LLMCall, SwarmEvent, SwarmState, SwarmHistory, ActionSpace, MemorySpace, NodeDetail, MemoryFile,
              MemoryListing, SwarmPage, SwarmActionSpace]
    return {m.__name__: m.model_json_schema() for m in models}
