// The fold: SwarmState is the result of applying SwarmHistory's events in order.
// A line-for-line port of src/aga_swarm/engine/fold.py. `applyEvent` mutates its argument, so it runs
// inside an Immer draft (the Redux reducer in ./reducer.ts); the live store and the history slider both
// go through that one reducer.
import type { ChatSummary, EventOf, MemoryFile, Node, SwarmEvent, SwarmState, Usage } from '../api/types';

export function emptyUsage(): Usage {
  return {
    llm_calls: 0,
    tokens_in: 0,
    tokens_out: 0,
    cost_usd: 0,
    nodes: 0,
    replans: 0,
    reserved_calls: 0,
    reserved_tokens: 0,
    reserved_cost_usd: 0,
    run_ms: 0,
    running_since: null,
  };
}

export function emptyState(swarmId: string): SwarmState {
  return {
    swarm_id: swarmId,
    seq: 0,
    status: 'draft',
    failure_reason: null,
    root_node_id: null,
    nodes: {},
    chats: {},
    usage: emptyUsage(),
    memory: {},
    auto_approve: [],
  };
}

/** ChatSummary(id=..., node_id=..., title=...) with the model's defaults. */
export function newChatSummary(id: string, nodeId: string, title: string): ChatSummary {
  return {
    id,
    node_id: nodeId,
    title,
    status: 'idle',
    message_count: 0,
    last_message: null,
    last_role: null,
    awaiting_since: null,
    followups: 0,
  };
}

/** Python's round(x, 9): the correctly rounded decimal, read back as the nearest double. */
export function round9(x: number): number {
  return Number(x.toFixed(9));
}

/** Python's s[:n] counts code points, not UTF-16 units. */
export function codePointPrefix(s: string, n: number): string {
  if (s.length <= n) return s;
  let out = '';
  let count = 0;
  for (const ch of s) {
    if (count === n) break;
    out += ch;
    count += 1;
  }
  return out;
}

function int(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

type Counter = keyof EventOf<'usage'>['data']['delta'];
const USAGE_FIELDS: readonly Counter[] = ['llm_calls', 'tokens_in', 'tokens_out', 'cost_usd', 'nodes', 'replans'];

/** fold.py's reserve(): a model call's continuation holds its worst case (request.reserve) until replaced. */
function reserve(u: Usage, cont: Node['continuation'] | undefined, sign: number): void {
  const held = (cont?.request as Record<string, unknown> | undefined)?.reserve as Record<string, unknown> | undefined;
  if (!held) return;
  u.reserved_calls += sign * int(held.calls);
  u.reserved_tokens += sign * int(held.tokens);
  u.reserved_cost_usd = round9(u.reserved_cost_usd + sign * Number(held.cost_usd ?? 0));
}

/** fold.py's epoch_ms(): whole milliseconds since the epoch. */
function epochMs(iso: string): number {
  return Date.parse(iso);
}

/**
 * Apply one event in place. Entities an event names must already be in `state`; an event naming a
 * missing one (which the Python fold would reject) changes nothing but the seq, so a browser never crashes
 * on a malformed event.
 */
export function applyEvent(state: SwarmState, event: SwarmEvent): void {
  switch (event.type) {
    case 'node_spawned': {
      const src = event.data.node;
      const node: Node = { ...src, children: [...(src.children ?? [])] };
      state.nodes[node.id] = node;
      if (node.parent_id !== null && node.parent_id !== undefined) {
        const parent = state.nodes[node.parent_id];
        if (parent) parent.children.push(node.id);
      } else {
        state.root_node_id = node.id;
      }
      state.chats[node.chat_id] = newChatSummary(node.chat_id, node.id, node.title);
      state.usage.nodes += 1;
      // a node made waiting on the model in the transaction that created it holds its reservation from the start
      reserve(state.usage, node.continuation, 1);
      break;
    }
    case 'node_updated': {
      const node = event.node_id ? state.nodes[event.node_id] : undefined;
      if (node) {
        const { continuation_delta: delta, ...changes } = event.data.changes;
        const swapped = delta !== undefined || 'continuation' in changes;
        if (swapped) reserve(state.usage, node.continuation, -1);
        if (delta !== undefined) {
          // what changed since the node's previous continuation (fold.py's continuation_from_delta)
          const base = node.continuation ?? { node_id: node.id, request: {}, context: {} };
          changes.continuation = { ...base, created_at: event.ts, ...delta } as Node['continuation'];
        }
        Object.assign(node, changes, { updated_at: event.ts });
        if (swapped) reserve(state.usage, node.continuation, 1);
      }
      break;
    }
    case 'chat_updated': {
      const chat = state.chats[event.data.chat_id];
      if (chat) Object.assign(chat, event.data.changes);
      break;
    }
    case 'message_posted': {
      const msg = event.data.message;
      const chat = state.chats[msg.chat_id];
      if (chat) {
        chat.message_count += 1;
        chat.last_message = codePointPrefix(msg.content, 280);
        chat.last_role = msg.role;
      }
      break;
    }
    case 'swarm_status': {
      const status = event.data.status;
      state.status = status;
      state.failure_reason = event.data.reason ?? null;
      const u = state.usage;
      if (status === 'running') {
        if (u.running_since === null || u.running_since === undefined) u.running_since = event.ts;
      } else if (u.running_since !== null && u.running_since !== undefined) {
        u.run_ms += Math.max(0, epochMs(event.ts) - epochMs(u.running_since));
        u.running_since = null;
      }
      break;
    }
    case 'llm_call': {
      const u = state.usage;
      u.llm_calls += 1;
      u.tokens_in += int(event.data.tokens_in);
      u.tokens_out += int(event.data.tokens_out);
      u.cost_usd = round9(u.cost_usd + Number(event.data.cost_usd ?? 0));
      break;
    }
    case 'usage': {
      const delta = event.data.delta ?? {};
      for (const k of USAGE_FIELDS) {
        const v = delta[k];
        if (v !== undefined) state.usage[k] += v;
      }
      break;
    }
    case 'memory_written': {
      const { path, title, size, content_type, node_id } = event.data;
      const file: MemoryFile = { path, title, size: int(size), content_type, node_id: node_id ?? null, seq: event.seq };
      if (!state.memory) state.memory = {};
      state.memory[path] = file;
      break;
    }
    case 'auto_approve': {
      const { tool, enabled } = event.data;
      const rest = (state.auto_approve ?? []).filter((t) => t !== tool);
      state.auto_approve = enabled ? [...rest, tool].sort() : rest; // a new array: the writer shares the old
      break;
    }
    // 'journal' and 'tool_call' events carry narrative and developer-log records only; they change no state.
    default:
      break;
  }
  state.seq = event.seq;
}

/** Fold events into a mutable state (used by tests and benchmarks; the app goes through the reducer). */
export function foldInPlace(state: SwarmState, events: Iterable<SwarmEvent>): SwarmState {
  for (const e of events) applyEvent(state, e);
  return state;
}
