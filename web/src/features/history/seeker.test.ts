import { describe, expect, it } from 'vitest';
import type { SwarmEvent, SwarmHistory, SwarmState } from '../../api/types';
import { syntheticHistory } from '../../bench/synthetic';
import fixture from '../../test/fixtures/fold-history.json';
import { emptyState, foldInPlace } from '../../fold/fold';
import { HistorySeeker, LOCAL_LIMIT, PAGE, STRIDE, type HistorySource } from './seeker';

const plain = <T,>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function source(events: SwarmEvent[], swarmId: string, firstSeq = 1) {
  const calls = { stateAt: [] as number[], history: [] as number[] };
  const src: HistorySource = {
    async stateAt(seq) {
      calls.stateAt.push(seq);
      return plain(foldInPlace(emptyState(swarmId), events.filter((e) => e.seq <= seq)));
    },
    async history(after, limit): Promise<SwarmHistory> {
      calls.history.push(after);
      const evs = events.filter((e) => e.seq > after && e.seq >= firstSeq).slice(0, limit);
      return { swarm_id: swarmId, events: evs, first_seq: firstSeq, last_seq: events.length };
    },
  };
  return { src, calls };
}

function truth(events: SwarmEvent[], swarmId: string, seq: number): SwarmState {
  return foldInPlace(emptyState(swarmId), events.slice(0, seq));
}

describe('history seeker', () => {
  const fx = fixture.history as unknown as SwarmHistory;

  it('shows the state at every seq of a real history, forwards and backwards', async () => {
    const { src } = source(fx.events, fx.swarm_id);
    const seeker = new HistorySeeker(fx.swarm_id, src);
    let cur: SwarmState | null = null;
    const last = fx.events[fx.events.length - 1]!.seq;
    const order = [...fx.events.map((e) => e.seq), ...fx.events.map((e) => e.seq).reverse(), 0, 77, 3, last];
    for (const t of order) {
      cur = await seeker.seek(t, cur);
      expect(cur.seq).toBe(t);
      expect(plain(cur)).toEqual(plain(truth(fx.events, fx.swarm_id, t)));
    }
    expect(plain(cur)).toEqual(plain(fixture.state));
  });

  it('in a long history, a far seek starts from a server snapshot at the anchor below and folds < STRIDE events', async () => {
    const events = syntheticHistory(12_000, 'big');
    const { src, calls } = source(events, 'big');
    const seeker = new HistorySeeker('big', src);
    const target = 9_876;
    const st = await seeker.seek(target, null);
    expect(plain(st)).toEqual(plain(truth(events, 'big', target)));
    expect(calls.stateAt).toEqual([Math.floor(target / STRIDE) * STRIDE]);
    expect(seeker.stats.eventsFolded).toBeLessThan(STRIDE);
    expect(calls.history.every((a) => a % PAGE === 0)).toBe(true);
  });

  it('a near seek folds locally from the state on screen (no snapshot request)', async () => {
    const events = syntheticHistory(30_000, 'big');
    const { src, calls } = source(events, 'big');
    const seeker = new HistorySeeker('big', src);
    const a = await seeker.seek(12_000, null);
    expect(calls.stateAt).toHaveLength(1); // far from seq 0: a snapshot
    await seeker.events(12_000, 12_000 + LOCAL_LIMIT); // as if the slider had been here before
    const b = await seeker.seek(12_000 + LOCAL_LIMIT - 10, a);
    expect(calls.stateAt).toHaveLength(1);
    expect(b.seq).toBe(12_000 + LOCAL_LIMIT - 10);
    expect(plain(b)).toEqual(plain(truth(events, 'big', b.seq)));
    // Stepping back one event starts from a checkpoint, also without the server.
    const c = await seeker.seek(b.seq - 1, b);
    expect(calls.stateAt).toHaveLength(1);
    expect(plain(c)).toEqual(plain(truth(events, 'big', b.seq - 1)));
  });

  it('a first seek into uncached history is seeded from a snapshot, not by fetching every event before it', async () => {
    const events = syntheticHistory(3_000, 'big');
    const { src, calls } = source(events, 'big');
    const seeker = new HistorySeeker('big', src);
    const st = await seeker.seek(2_500, null);
    expect(calls.stateAt).toEqual([2_304]);
    expect(calls.history).toEqual([2_000]);
    expect(plain(st)).toEqual(plain(truth(events, 'big', 2_500)));
    // A short step from there needs nothing new from the server.
    await seeker.seek(2_520, st);
    expect(calls.stateAt).toHaveLength(1);
  });

  it('extends its cached page with live events instead of refetching', async () => {
    const events = syntheticHistory(1_500, 'big');
    const { src, calls } = source(events.slice(0, 1_200), 'big');
    const seeker = new HistorySeeker('big', src);
    await seeker.seek(1_200, null);
    const fetched = calls.history.length;
    seeker.addEvents(events.slice(1_200, 1_300));
    const st = await seeker.seek(1_300, null);
    expect(calls.history.length).toBe(fetched);
    expect(plain(st)).toEqual(plain(truth(events, 'big', 1_300)));
  });

  it('after compaction the lowest reachable seq is first_seq - 1, reached through a snapshot', async () => {
    const events = syntheticHistory(3_000, 'c');
    const { src, calls } = source(events, 'c', 1_001);
    const seeker = new HistorySeeker('c', { ...src, firstSeq: async () => 1_001 });
    const st = await seeker.seek(10, null);
    expect(st.seq).toBe(1_000);
    expect(calls.stateAt).toContain(1_000);
    expect(plain(st)).toEqual(plain(truth(events, 'c', 1_000)));
  });
});
