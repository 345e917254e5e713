import { describe, expect, it } from 'vitest';
import type { SwarmHistory } from '../../api/types';
import fixture from '../../test/fixtures/fold-history.json';
import { emptyState, foldInPlace } from '../../fold/fold';
import liveReducer, { eventsReceived, liveLoaded, liveLoading, type LiveState } from './liveSlice';

const history = fixture.history as unknown as SwarmHistory;
const id = history.swarm_id;
const ev = history.events;
const plain = <T,>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function loaded(): LiveState {
  const s = liveReducer(undefined, liveLoading(id));
  return liveReducer(s, liveLoaded({ swarmId: id, state: emptyState(id) }));
}

describe('live slice: dedupe by seq, gaps, catch-up', () => {
  it('ignores events for swarms that are not being viewed', () => {
    const s = liveReducer(undefined, eventsReceived({ swarmId: 'other', events: ev.slice(0, 3) }));
    expect(s.swarms.other).toBeUndefined();
  });

  it('buffers events that arrive before the state, then applies those after its seq', () => {
    let s = liveReducer(undefined, liveLoading(id));
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(8, 12) }));
    expect(s.swarms[id]!.pending).toHaveLength(4);
    const at10 = foldInPlace(emptyState(id), ev.slice(0, 10));
    s = liveReducer(s, liveLoaded({ swarmId: id, state: at10 }));
    expect(s.swarms[id]!.state!.seq).toBe(12);
    expect(s.swarms[id]!.pending).toHaveLength(0);
  });

  it('holds events past a gap until the gap is filled, and never applies one twice', () => {
    let s = loaded();
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(0, 5) }));
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(8, 10) })); // 6..8 missing
    expect(s.swarms[id]!.state!.seq).toBe(5);
    expect(s.swarms[id]!.pending.map((e) => e.seq)).toEqual([9, 10]);
    // The catch-up (history?after=5) overlaps what is pending and what was applied.
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(3, 9), authoritative: true }));
    expect(s.swarms[id]!.state!.seq).toBe(10);
    expect(s.swarms[id]!.pending).toHaveLength(0);
    // Replays of everything change nothing.
    const before = plain(s.swarms[id]!.state);
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(0, 10) }));
    expect(plain(s.swarms[id]!.state)).toEqual(before);
    expect(before).toEqual(plain(foldInPlace(emptyState(id), ev.slice(0, 10))));
  });

  it('reaches the Python state whatever the delivery order and duplication', () => {
    let s = loaded();
    const shuffled = [...ev];
    // Deterministic shuffle in windows of 7, with every 5th event delivered twice.
    for (let i = 0; i + 7 <= shuffled.length; i += 7) shuffled.splice(i, 7, ...shuffled.slice(i, i + 7).reverse());
    const noisy = shuffled.flatMap((e, i) => (i % 5 === 0 ? [e, e] : [e]));
    for (let i = 0; i < noisy.length; i += 3) s = liveReducer(s, eventsReceived({ swarmId: id, events: noisy.slice(i, i + 3) }));
    expect(plain(s.swarms[id]!.state)).toEqual(plain(fixture.state));
  });

  it('records the last seq that touched each node', () => {
    let s = loaded();
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev }));
    const last = [...ev].reverse().find((e) => e.node_id === 'n')!;
    expect(s.swarms[id]!.nodeRev.n).toBe(last.seq);
  });

  it('keeps a state that is ahead when an older GET state arrives', () => {
    let s = loaded();
    s = liveReducer(s, eventsReceived({ swarmId: id, events: ev.slice(0, 20) }));
    s = liveReducer(s, liveLoaded({ swarmId: id, state: foldInPlace(emptyState(id), ev.slice(0, 10)) }));
    expect(s.swarms[id]!.state!.seq).toBe(20);
  });
});
