"""SQL tables: small rows only. Large payloads live in the blob store and are referenced by key."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(200)
BIGINT_PK = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER keys

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False, unique=True),
    Column("password_hash", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

SHARED_CONFIG_OWNER = ""
"""The ``owner_id`` of a config the operator shares with every user (migration 0004)."""

configs = Table(
    "configs",
    metadata,
    Column("owner_id", ID, primary_key=True, index=True),  # SHARED_CONFIG_OWNER, or the user's id
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

swarms = Table(
    "swarms",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("goal", Text, nullable=False),
    Column("config_id", ID, nullable=False),
    Column("status", String(20), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("root_node_id", ID, nullable=True),
    Column("forked_from", ID, nullable=True),
    Column("forked_at_seq", Integer, nullable=True),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("first_seq", Integer, nullable=False, default=1),
    Column("usage", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # the person's per-swarm auto-approve switch (tool ids, "*" for all), the fold of its events (migration 0011)
    Column("auto_approve", JSON, nullable=False, server_default="[]"),
)

nodes = Table(
    "nodes",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("parent_id", ID, nullable=True),
    Column("lifecycle", String(20), nullable=False),
    Column("data", JSON, nullable=False),
    # 1 until the node has ended (``sql.LIVE_LIFECYCLES``): indexed instead of the lifecycle, so a change between two
    # live lifecycles (running, waiting_user: every ask or tool cycle) leaves the index alone (migration 0014)
    Column("live", SmallInteger, nullable=False, server_default="1"),
    Index("ix_nodes_parent", "swarm_id", "parent_id", "live"),
)

chats = Table(
    "chats",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("node_id", ID, nullable=False),
    Column("status", String(20), nullable=False),
    Column("data", JSON, nullable=False),
    sqlite_with_rowid=False,  # (swarm, id) is the row's place: no second b-tree (migration 0012)
)

messages = Table(
    "messages",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, nullable=False),  # "<chat id>.m<idx>": unique through the key (migration 0002)
    Column("chat_id", ID, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("role", String(10), nullable=False),
    Column("content", Text, nullable=False),
    Column("reply_to", ID, nullable=True),
    Column("attachments", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    sqlite_with_rowid=False,  # (swarm, chat, index) is the row's place: no second b-tree (migration 0013)
)

events = Table(
    "events",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("type", String(30), nullable=False),
    Column("node_id", ID, nullable=True),
    Column("data", JSON, nullable=False),
    sqlite_with_rowid=False,  # (swarm, seq) is the row's place: no second b-tree (migration 0008)
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("blob_key", String(500), nullable=False),
)

operations = Table(
    "operations",
    metadata,
    Column("id", BIGINT_PK, primary_key=True, autoincrement=True),
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", ID, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("idem_key", String(300), nullable=False),
    Column("error", Text, nullable=True),
    Column("not_before", Float, nullable=False, default=0.0),
    Column("lease_until", Float, nullable=True),
    Column("claim", String(40), nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("swarm_id", "idem_key", name="uq_operation_idem"),
    Index("ix_operations_status_id", "status", "id"),
    Index("ix_operations_swarm_node", "swarm_id", "node_id", "status"),
)

journal = Table(
    "journal",
    metadata,
    Column("id", BIGINT_PK, primary_key=True, autoincrement=True),
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", ID, nullable=False),
    # None: as its journal event at ``seq`` says (its step, text and time: migration 0012, they were stored twice);
    # older rows: theirs
    Column("step", String(200), nullable=True),
    Column("text", Text, nullable=True),
    Column("created_at", Float, nullable=True),
    Column("seq", Integer, nullable=True),  # its journal event's seq (migration 0003; older rows: none)
    Index("ix_journal_node", "swarm_id", "node_id"),
)

llm_requests = Table(
    "llm_requests",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),  # SHA-256 of the request's canonical JSON (migration 0008)
    Column("body", JSON, nullable=True),  # the request, or None when it is in the blob store
    Column("blob_key", String(500), nullable=True),
    sqlite_with_rowid=False,  # the key is the row's place: no second b-tree
)

llm_calls = Table(
    "llm_calls",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), nullable=False),
    Column("id", ID, nullable=False),
    Column("node_id", ID, nullable=False),
    Column("step", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("kind", String(20), nullable=False, server_default="model_call"),  # LogEntryKind (migration 0010)
    Column("body", JSON, nullable=True),
    Column("blob_key", String(500), nullable=True),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("seq", Integer, nullable=True),  # its llm_call event's seq (migration 0003; older rows: none)
    # the node's attempt and re-plan count when the call was made (migration 0009; older rows: none)
    Column("attempt", Integer, nullable=True),
    Column("replan", Integer, nullable=True),
    # keyed by node, so one b-tree finds a node's calls and holds the rows (migration 0012)
    PrimaryKeyConstraint("swarm_id", "node_id", "id", name="llm_calls_pkey"),
    sqlite_with_rowid=False,
)

memory_files = Table(
    "memory_files",
    metadata,
    Column("swarm_id", ID, ForeignKey("swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(500), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the memory_written event of this version (migration 0005)
    Column("title", String(300), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("node_id", ID, nullable=True),  # None: the person uploaded it
    Column("blob_key", String(500), nullable=False),
    Column("created_at", Float, nullable=False),
)
