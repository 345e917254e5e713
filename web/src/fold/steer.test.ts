// The web app's fold against the Python engine on a steered swarm (scripts/make-steer-fixture.py): the person told
// the haiku something before it asked, cancelled the question (the haiku was cancelled with it), retried both, and
// the review re-planned the subtask that stayed cancelled. Live pushes and the history slider both fold these events.
import { describe, expect, it } from 'vitest';
import type { SwarmHistory, SwarmState } from '../api/types';
import fixture from '../test/fixtures/steer-history.json';
import { HistorySeeker, type HistorySource } from '../features/history/seeker';
import liveReducer, { eventsReceived, liveLoaded, liveLoading } from '../features/live/liveSlice';
import { emptyState, foldInPlace } from './fold';

const history = fixture.history as unknown as SwarmHistory;
const statesAt = fixture.states_at as unknown as Record<string, SwarmState>;
const events = history.events;
const plain = <T,>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function pythonStateAt(seq: number): SwarmState {
  const st = statesAt[String(seq)];
  if (!st) throw new Error(`no Python state at seq ${seq}`);
  return st;
}

describe('fold of a steered swarm (cancel, retry, tell)', () => {
  it('the fixture holds the steering: a told message, a cancel, second attempts and a re-plan', () => {
    const final = fixture.state as unknown as SwarmState;
    expect(final.nodes['n.1']!.attempt).toBe(2);
    expect(final.nodes['n.2']!.attempt).toBe(2);
    expect(final.nodes['n.2']!.report).toContain('(told: use the word sea)');
    expect(final.nodes['n.3']!.lifecycle).toBe('cancelled');
    expect(final.usage.replans).toBe(1);
    const lifecycles = events.flatMap((e) => (e.type === 'node_updated' && e.node_id === 'n.1' ? [e.data.changes.lifecycle] : []));
    expect(lifecycles).toContain('cancelled');
  });

  it('equals the Python state after every steering event and at the checkpoints, pushed live one by one', () => {
    let live = liveReducer(undefined, liveLoading(history.swarm_id));
    live = liveReducer(live, liveLoaded({ swarmId: history.swarm_id, state: emptyState(history.swarm_id) }));
    let checked = 0;
    for (const e of events) {
      live = liveReducer(live, eventsReceived({ swarmId: history.swarm_id, events: [e] }));
      if (String(e.seq) in statesAt) {
        expect(plain(live.swarms[history.swarm_id]!.state!)).toEqual(plain(pythonStateAt(e.seq)));
        checked += 1;
      }
    }
    expect(checked).toBe(Object.keys(statesAt).length);
    expect(plain(live.swarms[history.swarm_id]!.state!)).toEqual(plain(fixture.state));
  });

  it('the history slider brings back each steered state, forwards and backwards', async () => {
    const src: HistorySource = {
      async stateAt(seq) {
        return plain(foldInPlace(emptyState(history.swarm_id), events.filter((e) => e.seq <= seq)));
      },
      async history(after, limit): Promise<SwarmHistory> {
        return { ...history, events: events.filter((e) => e.seq > after).slice(0, limit) };
      },
    };
    const seeker = new HistorySeeker(history.swarm_id, src);
    const seqs = Object.keys(statesAt).map(Number).sort((a, b) => a - b);
    let cur: SwarmState | null = null;
    for (const seq of [...seqs, ...[...seqs].reverse()]) {
      cur = await seeker.seek(seq, cur);
      expect(plain(cur)).toEqual(plain(pythonStateAt(seq)));
    }
  });
});
