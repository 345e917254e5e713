// Synthetic swarms for benchmarks and tests: trees of any size, and long histories.
import { ACTION_TYPES, LIFECYCLES, type EventBody, type Node, type SwarmEvent, type SwarmState } from '../api/types';
import { emptyState, newChatSummary } from '../fold/fold';

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TS = '2026-01-01T00:00:00Z';

export function makeNode(swarmId: string, id: string, parentId: string | null, depth: number, action: number, lifecycle: number): Node {
  return {
    id,
    swarm_id: swarmId,
    parent_id: parentId,
    children: [],
    needs: [],
    needed_by: [],
    attempt: 1,
    inbox: [],
    attachments: [],
    depth,
    action_id: ACTION_TYPES[action]!,
    action_type: ACTION_TYPES[action]!,
    directive: `Subtask ${id}`,
    title: `Subtask ${id}`,
    lifecycle: LIFECYCLES[lifecycle]!,
    termination_policy: 'all',
    report: null,
    failure_reason: null,
    context_down: {},
    context_up: {},
    chat_id: `c.${id}`,
    replans: 0,
    continuation: null,
    created_at: TS,
    updated_at: TS,
  };
}

/** Child counts drawn so the tree is bushy near the root and sparse at the leaves, like a real plan. */
function childCount(r: () => number, depth: number): number {
  if (depth === 0) return 6 + Math.floor(r() * 6);
  if (depth >= 7) return 0;
  const x = r();
  return x < 0.35 ? 0 : x < 0.55 ? 2 : x < 0.8 ? 4 : 8;
}

/** The order in which a swarm of n nodes would spawn them: breadth-first, parents first. */
export function syntheticTreeOrder(n: number, seed = 1): { id: string; parent: string | null; depth: number }[] {
  const r = rng(seed);
  const out: { id: string; parent: string | null; depth: number }[] = [{ id: 'n', parent: null, depth: 0 }];
  const kids = new Map<string, number>();
  let head = 0;
  let pass = 0;
  while (out.length < n) {
    if (head >= out.length) {
      head = 0; // every node had its turn: another round of (re-planned) children
      pass++;
    }
    const p = out[head++]!;
    let k = childCount(r, p.depth);
    if (pass > 0) k = p.depth < 6 ? Math.ceil(k / 2) : 0;
    k = Math.min(k, n - out.length);
    const existing = kids.get(p.id) ?? 0;
    for (let c = 0; c < k; c++) out.push({ id: `${p.id}.${existing + c + 1}`, parent: p.id, depth: p.depth + 1 });
    kids.set(p.id, existing + k);
  }
  return out;
}

export function syntheticState(n: number, swarmId = 'bench', seed = 1): SwarmState {
  const r = rng(seed + 7);
  const state = emptyState(swarmId);
  state.status = 'running';
  for (const { id, parent, depth } of syntheticTreeOrder(n, seed)) {
    const node = makeNode(swarmId, id, parent, depth, Math.floor(r() * ACTION_TYPES.length), Math.floor(r() * LIFECYCLES.length));
    state.nodes[id] = node;
    if (parent) state.nodes[parent]!.children.push(id);
    else state.root_node_id = id;
    state.chats[node.chat_id] = newChatSummary(node.chat_id, id, node.title);
    state.usage.nodes += 1;
  }
  state.seq = n;
  return state;
}

/**
 * A history of `count` events: nodes spawn (about one event in `spawnEvery`), and the rest are the
 * lifecycle changes, model calls, journal lines, chat updates and messages that a real swarm emits.
 */
export function syntheticHistory(count: number, swarmId = 'bench', spawnEvery = 25, seed = 3): SwarmEvent[] {
  const r = rng(seed);
  const order = syntheticTreeOrder(Math.ceil(count / spawnEvery) + 1, seed);
  const events: SwarmEvent[] = [];
  const spawned: string[] = [];
  let next = 0;
  let msgIndex = 0;
  const ev = (body: EventBody) => events.push({ swarm_id: swarmId, seq: events.length + 1, ts: TS, ...body });
  ev({ type: 'swarm_status', node_id: null, data: { status: 'running', reason: null } });
  while (events.length < count) {
    const roll = r();
    if ((roll < 1 / spawnEvery || spawned.length === 0) && next < order.length) {
      const o = order[next++]!;
      const node = makeNode(swarmId, o.id, o.parent, o.depth, Math.floor(r() * ACTION_TYPES.length), 0);
      ev({ type: 'node_spawned', node_id: o.id, data: { node } });
      spawned.push(o.id);
      continue;
    }
    const id = spawned[Math.floor(r() * spawned.length)]!;
    const k = r();
    if (k < 0.45) {
      ev({ type: 'node_updated', node_id: id, data: { changes: { lifecycle: LIFECYCLES[Math.floor(r() * LIFECYCLES.length)] } } });
    } else if (k < 0.65) {
      ev({ type: 'llm_call', node_id: id, data: { id: `${id}.llm${events.length}`, step: 'plan.on_plan', model: 'scripted-1', tokens_in: 120, tokens_out: 30, cost_usd: 0.0001, latency_ms: 1.5, error: null } });
    } else if (k < 0.85) {
      ev({ type: 'journal', node_id: id, data: { step: 'plan.start', text: 'Planning how to split the task.' } });
    } else if (k < 0.93) {
      ev({ type: 'chat_updated', node_id: id, data: { chat_id: `c.${id}`, changes: { status: 'awaiting_user', awaiting_since: TS } } });
    } else {
      ev({
        type: 'message_posted',
        node_id: id,
        data: {
          message: { id: `m${msgIndex}`, chat_id: `c.${id}`, index: msgIndex++, role: 'agent', content: 'I need your input on this.', attachments: [], reply_to: null, created_at: TS },
        },
      });
    }
  }
  return events;
}
