// The live state of each swarm being viewed: its SwarmState (from GET state, then folded forward event by
// event through the shared reducer), events that arrived ahead of a gap, and a per-node revision used to
// refresh open node details.
import { createSlice, isDraft, original, type PayloadAction } from '@reduxjs/toolkit';
import type { SwarmEvent, SwarmState } from '../../api/types';
import { eventsApplied, foldReducer } from '../../fold/reducer';

/** The plain (frozen) state behind an Immer draft: the fold never mutates its input, so it needs no draft. */
function base<T extends object>(v: T): T {
  return isDraft(v) ? (original(v as never) as T) : v;
}
import { resetAll } from '../auth/authSlice';

export interface LiveSwarm {
  state: SwarmState | null;
  loading: boolean;
  error: string | null;
  /** Events received past a gap (or before the state loaded), sorted by seq, waiting for the gap to fill. */
  pending: SwarmEvent[];
  /** The seq of the last event seen for each node (any type), so views of a node know to refresh. */
  nodeRev: Record<string, number>;
}

export interface LiveState {
  swarms: Record<string, LiveSwarm>;
}

const initialState: LiveState = { swarms: {} };

function entry(s: LiveState, swarmId: string): LiveSwarm {
  let e = s.swarms[swarmId];
  if (!e) {
    e = { state: null, loading: false, error: null, pending: [], nodeRev: {} };
    s.swarms[swarmId] = e;
  }
  return e;
}

/**
 * Merge `incoming` with the pending buffer and apply what can be applied. Without `authoritative`, only a
 * contiguous run (seq = state.seq + 1, + 2, ...) is applied and anything past a gap waits. An authoritative
 * batch (a history?after= page: the server's complete list after our seq) is applied whole.
 */
function absorb(e: LiveSwarm, incoming: readonly SwarmEvent[], authoritative: boolean): void {
  const bySeq = new Map<number, SwarmEvent>();
  for (const ev of e.pending) bySeq.set(ev.seq, ev);
  for (const ev of incoming) bySeq.set(ev.seq, ev);
  if (!e.state) {
    e.pending = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    return;
  }
  const seq = e.state.seq;
  const sorted = [...bySeq.values()].filter((ev) => ev.seq > seq).sort((a, b) => a.seq - b.seq);
  const incomingSeqs = authoritative ? new Set(incoming.map((ev) => ev.seq)) : null;
  const run: SwarmEvent[] = [];
  let next = seq + 1;
  let i = 0;
  for (; i < sorted.length; i++) {
    const ev = sorted[i]!;
    if (ev.seq !== next && !incomingSeqs?.has(ev.seq)) break;
    run.push(ev);
    next = ev.seq + 1;
  }
  e.pending = sorted.slice(i);
  if (run.length) {
    e.state = foldReducer(base(e.state), eventsApplied(run));
    for (const ev of run) if (ev.node_id) e.nodeRev[ev.node_id] = ev.seq;
  }
}

const liveSlice = createSlice({
  name: 'live',
  initialState,
  reducers: {
    liveLoading(s, { payload }: PayloadAction<string>) {
      const e = entry(s, payload);
      e.loading = true;
      e.error = null;
    },
    liveLoaded(s, { payload }: PayloadAction<{ swarmId: string; state: SwarmState }>) {
      const e = entry(s, payload.swarmId);
      e.loading = false;
      e.error = null;
      // A reload keeps a state that is already further along (events can arrive while GET state is in flight).
      if (!e.state || e.state.seq <= payload.state.seq) e.state = payload.state;
      absorb(e, [], false);
    },
    liveFailed(s, { payload }: PayloadAction<{ swarmId: string; error: string }>) {
      const e = entry(s, payload.swarmId);
      e.loading = false;
      e.error = payload.error;
    },
    /** Socket events (possibly out of order, duplicated or past a gap). Ignored for swarms not tracked. */
    eventsReceived(s, { payload }: PayloadAction<{ swarmId: string; events: SwarmEvent[]; authoritative?: boolean }>) {
      const e = s.swarms[payload.swarmId];
      if (!e) return;
      absorb(e, payload.events, payload.authoritative ?? false);
    },
    liveForget(s, { payload }: PayloadAction<string>) {
      delete s.swarms[payload];
    },
  },
  extraReducers: (b) => b.addCase(resetAll, () => initialState),
});

export const { liveLoading, liveLoaded, liveFailed, eventsReceived, liveForget } = liveSlice.actions;
export default liveSlice.reducer;
