// The one event reducer. The live store applies socket and catch-up events through it, and the history
// slider folds snapshots forward through it, so both always agree (see fold.test.ts).
//
// It is immutable with structural sharing: per batch, the state object, the node and chat maps and each
// node or chat an event touches are copied once (copy-on-write, guided by what each event type touches,
// like fold.py's node_ids_touched/chat_ids_touched), then `applyEvent` (the line-for-line port of
// fold.py) mutates those copies. Everything untouched is shared with the input, which is never mutated.
// This is what Immer would do, without its proxies, which cost ~50 µs an event on a 4,000-node state.
import { createAction } from '@reduxjs/toolkit';
import type { SwarmEvent, SwarmState } from '../api/types';
import { applyEvent } from './fold';

/** Apply events in seq order; any at or below the state's seq is a duplicate and is skipped. */
export const eventsApplied = createAction<readonly SwarmEvent[]>('fold/eventsApplied');

/** A shallow copy of a large string-keyed record (for...in is about twice as fast as spread here). */
function copyRecord<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k in o) out[k] = o[k]!;
  return out;
}

class Writer {
  readonly state: SwarmState;
  private nodesCopied = false;
  private chatsCopied = false;
  private usageCopied = false;
  private memoryCopied = false;
  private nodes = new Set<string>();
  private childLists = new Set<string>();
  private chats = new Set<string>();

  constructor(base: SwarmState) {
    this.state = { ...base };
  }

  node(id: string | null | undefined, children = false): void {
    const s = this.state;
    if (!this.nodesCopied) {
      s.nodes = copyRecord(s.nodes);
      this.nodesCopied = true;
    }
    if (!id) return;
    const n = s.nodes[id];
    if (!n) return;
    if (!this.nodes.has(id)) {
      s.nodes[id] = { ...n };
      this.nodes.add(id);
    }
    if (children && !this.childLists.has(id)) {
      s.nodes[id]!.children = [...n.children];
      this.childLists.add(id);
    }
  }

  chat(id: string | null | undefined): void {
    const s = this.state;
    if (!this.chatsCopied) {
      s.chats = copyRecord(s.chats);
      this.chatsCopied = true;
    }
    if (!id || this.chats.has(id)) return;
    const c = s.chats[id];
    if (!c) return;
    s.chats[id] = { ...c };
    this.chats.add(id);
  }

  usage(): void {
    if (!this.usageCopied) {
      this.state.usage = { ...this.state.usage };
      this.usageCopied = true;
    }
  }

  memory(): void {
    if (!this.memoryCopied) {
      this.state.memory = { ...(this.state.memory ?? {}) };
      this.memoryCopied = true;
    }
  }

  /** Copy what `event` will write, so applyEvent can mutate freely. */
  prepare(event: SwarmEvent): void {
    switch (event.type) {
      case 'node_spawned': {
        const node = event.data.node;
        this.node(node.parent_id, true);
        // applyEvent builds the new node (and its children list) afresh: it is this batch's own.
        this.nodes.add(node.id);
        this.childLists.add(node.id);
        this.chat(null);
        this.usage();
        break;
      }
      case 'node_updated':
        this.node(event.node_id);
        if ('continuation' in (event.data.changes ?? {}) || 'continuation_delta' in (event.data.changes ?? {})) {
          this.usage(); // a model call's reservation
        }
        break;
      case 'chat_updated':
        this.chat(event.data.chat_id);
        break;
      case 'message_posted':
        this.chat(event.data.message.chat_id);
        break;
      case 'llm_call':
      case 'usage':
      case 'swarm_status': // run time
        this.usage();
        break;
      case 'memory_written':
        this.memory(); // applyEvent builds the file afresh
        break;
      default:
        break;
    }
  }
}

/** Immutable fold: a new state sharing every untouched node and chat with `state`. */
export function foldEvents(state: SwarmState, events: readonly SwarmEvent[]): SwarmState {
  let w: Writer | null = null;
  for (const event of events) {
    if (event.seq <= (w ? w.state.seq : state.seq)) continue;
    w ??= new Writer(state);
    w.prepare(event);
    applyEvent(w.state, event);
  }
  return w ? w.state : state;
}

/** The reducer form of foldEvents, for `reducer(state, eventsApplied(events))`. */
export function foldReducer(state: SwarmState, action: ReturnType<typeof eventsApplied>): SwarmState {
  return eventsApplied.match(action) ? foldEvents(state, action.payload) : state;
}
