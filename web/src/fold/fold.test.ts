import { describe, expect, it } from 'vitest';
import type { SwarmEvent, SwarmHistory, SwarmState } from '../api/types';
import fixture from '../test/fixtures/fold-history.json';
import spawnedFixture from '../test/fixtures/fold-history-spawned.json';
import { applyEvent, codePointPrefix, emptyState, foldInPlace, round9 } from './fold';
import { eventsApplied, foldEvents, foldReducer } from './reducer';
import liveReducer, { eventsReceived, liveLoaded, liveLoading } from '../features/live/liveSlice';

const history = fixture.history as unknown as SwarmHistory;
const expected = fixture.state as unknown as SwarmState;
const events = history.events;

/** Plain JSON, so Immer-frozen objects and key order do not matter to the comparison. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe('fold (port of engine/fold.py)', () => {
  it('folds the Python engine history into exactly the Python engine state', () => {
    const state = foldInPlace(emptyState(history.swarm_id), events);
    expect(plain(state)).toEqual(plain(expected));
  });

  it('folds a history whose new nodes come as the transaction that made them left them (model calls reserved)', () => {
    // written after 2026-12-01: a node started in the transaction that created it has no node_updated of it, so
    // its node_spawned carries its continuation and the reservation that holds (fold-history.json is the older form)
    const newer = spawnedFixture.history as unknown as SwarmHistory;
    const reserving = newer.events.filter((e) => e.type === 'node_spawned'
      && (e.data.node.continuation?.request as Record<string, unknown> | undefined)?.reserve !== undefined);
    expect(reserving.length).toBeGreaterThan(1);
    const state = foldInPlace(emptyState(newer.swarm_id), newer.events);
    expect(plain(state)).toEqual(plain(spawnedFixture.state as unknown as SwarmState));
  });

  it('covers every event type the engine emitted in the fixture', () => {
    const types = new Set(events.map((e) => e.type));
    for (const t of ['swarm_status', 'node_spawned', 'node_updated', 'chat_updated', 'message_posted', 'journal', 'llm_call', 'memory_written', 'auto_approve']) {
      expect(types.has(t as SwarmEvent['type'])).toBe(true);
    }
  });

  it('applies continuation deltas, and folds the whole continuations of older histories the same at every seq', () => {
    const isDelta = (e: SwarmEvent) => e.type === 'node_updated' && e.data.changes.continuation_delta !== undefined;
    expect(events.filter(isDelta).length).toBeGreaterThan(10);
    // the older form: each delta replaced by the whole continuation the fold made from it
    const state = emptyState(history.swarm_id);
    const older: SwarmEvent[] = events.map((e) => {
      applyEvent(state, e);
      if (e.type !== 'node_updated' || e.data.changes.continuation_delta === undefined) return e;
      const { continuation_delta: _delta, ...rest } = e.data.changes;
      const continuation = plain(state.nodes[e.node_id!]!.continuation);
      expect(continuation?.node_id).toBe(e.node_id);
      return { ...e, data: { changes: { ...rest, continuation } } };
    });
    expect(plain(state)).toEqual(plain(expected));
    const a = emptyState(history.swarm_id);
    const b = emptyState(history.swarm_id);
    for (let i = 0; i < events.length; i += 1) {
      applyEvent(a, events[i]!);
      applyEvent(b, older[i]!);
      expect(plain(a)).toEqual(plain(b));
    }
  });

  it('knows dependency edges and waiting_deps: a node waits for what it needs, then runs', () => {
    const state = emptyState(history.swarm_id);
    const seen = new Set<string>();
    let before: string | undefined;
    for (const e of events) {
      applyEvent(state, e);
      const haiku = state.nodes['n.2'];
      if (haiku) seen.add(haiku.lifecycle);
      if (before === 'waiting_deps' && haiku?.lifecycle !== 'waiting_deps') {
        expect(state.nodes['n.1']!.lifecycle).toBe('done'); // released only once what it needs has ended
      }
      before = haiku?.lifecycle;
    }
    // (`running` is passed through within the transaction that releases it: one node_updated per transaction)
    expect(seen.has('waiting_deps') && seen.has('waiting_llm')).toBe(true);
    expect(state.nodes['n.2']!.needs).toEqual(['n.1']);
    expect(state.nodes['n.2']!.report).toContain('(with: blue)');
  });

  it('the live reducer applied event by event equals the history fold', () => {
    let live = liveReducer(undefined, liveLoading(history.swarm_id));
    live = liveReducer(live, liveLoaded({ swarmId: history.swarm_id, state: emptyState(history.swarm_id) }));
    for (const e of events) live = liveReducer(live, eventsReceived({ swarmId: history.swarm_id, events: [e] }));
    const viaLive = live.swarms[history.swarm_id]!.state!;
    expect(plain(viaLive)).toEqual(plain(foldInPlace(emptyState(history.swarm_id), events)));
    expect(plain(viaLive)).toEqual(plain(expected));
  });

  it('the shared reducer folds one batch the same as event by event, and never mutates its input', () => {
    const start = emptyState(history.swarm_id);
    const once = foldReducer(start, eventsApplied(events));
    let stepwise = start;
    for (const e of events) stepwise = foldEvents(stepwise, [e]);
    expect(plain(once)).toEqual(plain(stepwise));
    expect(start.seq).toBe(0);
    expect(Object.keys(start.nodes)).toHaveLength(0);
  });

  it('agrees with the Python state at every prefix (state at seq k = fold of the first k events)', () => {
    let viaReducer = emptyState(history.swarm_id);
    const plainFold = emptyState(history.swarm_id);
    for (const e of events) {
      viaReducer = foldEvents(viaReducer, [e]);
      applyEvent(plainFold, e);
      expect(viaReducer.seq).toBe(e.seq);
    }
    expect(plain(viaReducer)).toEqual(plain(plainFold));
  });

  it('never mutates its input: folding over deep-frozen states and events works and shares what is untouched', () => {
    const deepFreeze = <T,>(o: T): T => {
      if (o && typeof o === 'object' && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
      return o;
    };
    const evs = plain(events).map(deepFreeze);
    let s = deepFreeze(emptyState(history.swarm_id));
    for (let i = 0; i < evs.length; i += 3) {
      const next = foldEvents(s, evs.slice(i, i + 3));
      for (const [id, n] of Object.entries(s.nodes)) {
        const touched = evs.slice(i, i + 3).some((e) => e.node_id === id || (e.type === 'node_spawned' && e.data.node.parent_id === id));
        if (!touched) expect(next.nodes[id]).toBe(n);
      }
      s = deepFreeze(next);
    }
    expect(plain(s)).toEqual(plain(expected));
  });

  it('skips duplicates and events at or below the current seq', () => {
    const half = foldEvents(emptyState(history.swarm_id), events.slice(0, 50));
    const again = foldEvents(half, [...events.slice(0, 50), ...events.slice(40, 80)]);
    expect(plain(again)).toEqual(plain(foldEvents(emptyState(history.swarm_id), events.slice(0, 80))));
  });

  it('rounds cost like Python round(x, 9) and cuts messages at 280 code points', () => {
    expect(round9(0.1 + 0.2)).toBe(0.3);
    expect(round9(1e-10)).toBe(0);
    const emoji = '😀'.repeat(300);
    expect([...codePointPrefix(emoji, 280)]).toHaveLength(280);
    expect(codePointPrefix('short', 280)).toBe('short');
  });

  it('applies usage deltas and ignores unknown fields', () => {
    const s = emptyState('s');
    const delta = { replans: 2, bogus: 5 }; // a counter this client does not know (a newer server's)
    applyEvent(s, { swarm_id: 's', seq: 1, ts: 't', type: 'usage', node_id: null, data: { delta } });
    expect(s.usage.replans).toBe(2);
    expect(s.seq).toBe(1);
    expect((s.usage as unknown as Record<string, number>).bogus).toBeUndefined();
  });
});
