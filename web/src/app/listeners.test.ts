import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from '../api/http';
import type { EventOf, SwarmHistory, SwarmSummary } from '../api/types';
import fixture from '../test/fixtures/fold-history.json';
import { loggedIn, resetAll } from '../features/auth/authSlice';
import { scrubTo } from '../features/history/scrubSlice';
import { LiveConnection, type SocketLike } from '../features/live/connection';
import { eventsReceived } from '../features/live/liveSlice';
import { makeStore, type AppStore } from './store';

const history = fixture.history as unknown as SwarmHistory;
const id = history.swarm_id;
const user = { id: 'u1', username: 'u', created_at: '2026-01-01T00:00:00Z' };

/** A server that pages history?after= from the fixture; returns the paths it was asked for. */
function stubHistoryServer(): string[] {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: Request | string) => {
      const url = new URL(typeof input === 'string' ? input : input.url);
      calls.push(url.pathname + url.search);
      const after = Number(url.searchParams.get('after'));
      const limit = Number(url.searchParams.get('limit'));
      const body: SwarmHistory = { ...history, events: history.events.filter((e) => e.seq > after).slice(0, limit) };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }),
  );
  return calls;
}

async function seek(store: AppStore, target: number): Promise<void> {
  store.dispatch(scrubTo({ swarmId: id, target }));
  await vi.waitFor(() => expect(store.getState().scrub.shownSeq).toBe(target));
}

function status(seq: number, value: 'running' | 'paused'): EventOf<'swarm_status'> {
  return { swarm_id: id, seq, ts: '2026-01-01T00:00:00Z', type: 'swarm_status', node_id: null, data: { status: value, reason: null } };
}

afterEach(() => vi.unstubAllGlobals());

describe('the store listeners', () => {
  it('keep history seekers per store and drop them on a reset', async () => {
    const calls = stubHistoryServer();
    const store = makeStore();
    store.dispatch(loggedIn(user));
    await seek(store, 20);
    const fetched = calls.length;
    expect(fetched).toBeGreaterThan(0);
    await seek(store, 25); // the seeker has the page: nothing is fetched
    expect(calls.length).toBe(fetched);

    const other = makeStore(); // another store (another tab, another test) has a seeker of its own
    await seek(other, 20);
    expect(calls.length).toBeGreaterThan(fetched);

    store.dispatch(resetAll()); // a logout: the seeker (and its cached events) goes
    const before = calls.length;
    await seek(store, 20);
    expect(calls.length).toBeGreaterThan(before);
  });

  it("patch the swarm's cached status from its newest status event only, and forget on a reset", async () => {
    const store = makeStore();
    const swarm = { id, status: 'running', failure_reason: null } as Partial<SwarmSummary>;
    await store.dispatch(api.util.upsertQueryData('getSwarm', id, swarm as SwarmSummary));
    const cached = () => api.endpoints.getSwarm.select(id)(store.getState()).data?.status;
    store.dispatch(eventsReceived({ swarmId: id, events: [status(5, 'paused')] }));
    expect(cached()).toBe('paused');
    store.dispatch(eventsReceived({ swarmId: id, events: [status(3, 'running')] })); // a replay: older
    expect(cached()).toBe('paused');

    store.dispatch(resetAll());
    expect(cached()).toBeUndefined(); // RTK Query's cache is dropped
    await store.dispatch(api.util.upsertQueryData('getSwarm', id, swarm as SwarmSummary));
    store.dispatch(eventsReceived({ swarmId: id, events: [status(3, 'paused')] })); // seqs start afresh
    expect(cached()).toBe('paused');
  });

  it("close the live connection's socket on a reset, until the connection is disposed", () => {
    const store = makeStore();
    const socket: SocketLike = { connected: false, active: false, connect: () => undefined, disconnect: () => undefined, on: () => undefined };
    const conn = new LiveConnection(store, () => socket);
    const reset = vi.spyOn(conn, 'reset');
    store.dispatch(resetAll());
    expect(reset).toHaveBeenCalledOnce();
    conn.dispose();
    reset.mockClear();
    store.dispatch(resetAll());
    expect(reset).not.toHaveBeenCalled();
  });
});
