import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SwarmEvent, SwarmHistory, SwarmState } from '../../api/types';
import fixture from '../../test/fixtures/fold-history.json';
import { emptyState, foldInPlace } from '../../fold/fold';
import { makeStore, type AppStore } from '../../app/store';
import { loggedIn } from '../auth/authSlice';
import { liveLoaded, liveLoading } from './liveSlice';
import { LiveConnection, type SocketLike } from './connection';

const history = fixture.history as unknown as SwarmHistory;
const id = history.swarm_id;
const events = history.events;
const plain = <T,>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

class FakeSocket implements SocketLike {
  connected = false;
  active = false;
  handlers = new Map<string, ((...a: never[]) => void)[]>();
  connects = 0;
  disconnects = 0;
  on(event: string, fn: (...args: never[]) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    for (const f of this.handlers.get(event) ?? []) (f as (...a: unknown[]) => void)(...args);
  }
  connect() {
    this.connects++;
    this.active = true;
    this.connected = true;
    queueMicrotask(() => this.emit('connect'));
    return this;
  }
  disconnect() {
    this.disconnects++;
    this.active = false;
    this.connected = false;
    return this;
  }
}

/** A server that answers history?after= from the fixture (and counts the calls). */
function stubServer(upTo: () => number) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: Request | string) => {
      const url = new URL(typeof input === 'string' ? input : input.url);
      calls.push(url.pathname + url.search);
      if (url.pathname.endsWith('/history')) {
        const after = Number(url.searchParams.get('after'));
        const limit = Number(url.searchParams.get('limit'));
        const evs = events.filter((e) => e.seq > after && e.seq <= upTo()).slice(0, limit);
        const body: SwarmHistory = { swarm_id: id, events: evs, first_seq: 1, last_seq: upTo() };
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return new Response(JSON.stringify({ detail: 'not found' }), { status: 404, headers: { 'content-type': 'application/json' } });
    }),
  );
  return calls;
}

const tick = () => new Promise((r) => setTimeout(r, 30));

function setup(initial: SwarmState) {
  const store: AppStore = makeStore();
  store.dispatch(loggedIn({ id: 'u1', username: 'u', created_at: '2026-01-01T00:00:00Z' }));
  store.dispatch(liveLoading(id));
  store.dispatch(liveLoaded({ swarmId: id, state: initial }));
  const sockets: FakeSocket[] = [];
  const conn = new LiveConnection(store, () => {
    const s = new FakeSocket();
    sockets.push(s);
    return s;
  });
  return { store, conn, sockets };
}

describe('live connection', () => {
  let available = 0;
  beforeEach(() => {
    available = 0;
  });
  afterEach(() => vi.unstubAllGlobals());

  it('connects while a running swarm is viewed, catches up, and disconnects on an idle notice', async () => {
    available = 60;
    const calls = stubServer(() => available);
    const { store, conn, sockets } = setup(foldInPlace(emptyState(id), events.slice(0, 10)));
    const stop = conn.watchSwarm(id);
    await tick();
    expect(sockets).toHaveLength(1);
    await tick();
    expect(calls.some((c) => c.includes('after=10'))).toBe(true);
    expect(store.getState().live.swarms[id]!.state!.seq).toBe(60);
    expect(store.getState().connection.status).toBe('live');

    // Live events, some duplicated, one batch out of order: all applied once.
    sockets[0]!.emit('swarm_event', events[61]);
    sockets[0]!.emit('swarm_event', events[60]);
    sockets[0]!.emit('swarm_event', events[59]);
    sockets[0]!.emit('swarm_event', events[60]);
    conn.flush();
    expect(store.getState().live.swarms[id]!.state!.seq).toBe(62);
    // A committed batch in one `swarm_events` packet (what the server sends this client), overlapping what
    // was applied: the new ones are applied once, in order.
    sockets[0]!.emit('swarm_events', events.slice(61, 64));
    conn.flush();
    expect(store.getState().live.swarms[id]!.state!.seq).toBe(64);

    sockets[0]!.emit('swarm_notice', { swarm_id: id, kind: 'idle', status: 'running' });
    await tick();
    expect(sockets[0]!.disconnects).toBe(1);
    expect(store.getState().connection.status).toBe('offline');
    expect(store.getState().connection.notices[id]).toBe('idle');

    // The user replies: the socket comes back and catches up from the last seq seen.
    available = events.length;
    conn.wake(id);
    await tick();
    await tick();
    expect(sockets).toHaveLength(2);
    expect(calls.some((c) => c.includes('after=64'))).toBe(true);
    expect(plain(store.getState().live.swarms[id]!.state)).toEqual(plain(fixture.state));
    stop();
    conn.dispose();
  });

  it('a gap in socket events triggers a catch-up that fills it without duplicates', async () => {
    available = 40;
    const calls = stubServer(() => available);
    const { store, conn, sockets } = setup(foldInPlace(emptyState(id), events.slice(0, 40)));
    conn.watchSwarm(id);
    await tick();
    await tick();
    available = 50;
    // 41..44 never arrive on the socket; 45..50 do.
    for (const e of events.slice(44, 50)) sockets[0]!.emit('swarm_event', e as SwarmEvent);
    conn.flush();
    await tick();
    await tick();
    expect(calls.some((c) => c.includes('after=40'))).toBe(true);
    const st = store.getState().live.swarms[id]!;
    expect(st.state!.seq).toBe(50);
    expect(st.pending).toHaveLength(0);
    expect(plain(st.state)).toEqual(plain(foldInPlace(emptyState(id), events.slice(0, 50))));
    conn.dispose();
  });

  it('wake catches up over HTTP at once, before (or without) a socket connecting', async () => {
    available = 30;
    const calls = stubServer(() => available);
    const store: AppStore = makeStore();
    store.dispatch(loggedIn({ id: 'u1', username: 'u', created_at: '2026-01-01T00:00:00Z' }));
    store.dispatch(liveLoading(id));
    store.dispatch(liveLoaded({ swarmId: id, state: foldInPlace(emptyState(id), events.slice(0, 30)) }));
    // A socket that never connects (the server is slow to accept it, or refuses it).
    const conn = new LiveConnection(store, () => {
      const s = new FakeSocket();
      s.connect = () => s;
      return s;
    });
    conn.watchSwarm(id);
    await tick();
    // A resume whose swarm ran to its end in the same instant: everything is in the history already.
    available = events.length;
    conn.wake(id);
    await tick();
    await tick();
    expect(calls.some((c) => c.includes('after=30'))).toBe(true);
    expect(plain(store.getState().live.swarms[id]!.state)).toEqual(plain(fixture.state));
    conn.dispose();
  });

  it('a wake for a swarm not loaded yet (spawned from the list) does not block its later catch-ups', async () => {
    available = 10;
    const calls = stubServer(() => available);
    const store: AppStore = makeStore();
    store.dispatch(loggedIn({ id: 'u1', username: 'u', created_at: '2026-01-01T00:00:00Z' }));
    const conn = new LiveConnection(store, () => new FakeSocket());
    conn.wake(id); // from the swarm list: no live state for it
    await tick();
    store.dispatch(liveLoading(id));
    store.dispatch(liveLoaded({ swarmId: id, state: foldInPlace(emptyState(id), events.slice(0, 10)) }));
    available = 25;
    conn.wake(id); // a reply on its page
    await tick();
    await tick();
    expect(calls.some((c) => c.includes('after=10'))).toBe(true);
    expect(store.getState().live.swarms[id]!.state!.seq).toBe(25);
    conn.dispose();
  });

  it('a notice of a status the page has not seen fetches the events that led to it', async () => {
    available = 20;
    stubServer(() => available);
    const { store, conn, sockets } = setup(foldInPlace(emptyState(id), events.slice(0, 20)));
    conn.watchSwarm(id);
    await tick();
    await tick();
    expect(store.getState().live.swarms[id]!.state!.seq).toBe(20);
    // The swarm ends, but its events never reach this socket (lost in a reconnect): only the notice does.
    available = events.length;
    const final = fixture.state as unknown as SwarmState;
    sockets[0]!.emit('swarm_notice', { swarm_id: id, kind: 'finished', status: final.status });
    await tick();
    await tick();
    expect(sockets[0]!.disconnects).toBe(1);
    expect(store.getState().live.swarms[id]!.state!.status).toBe(final.status);
    expect(plain(store.getState().live.swarms[id]!.state)).toEqual(plain(fixture.state));
    conn.dispose();
  });

  it('does not connect for a swarm that is not running, and disconnects when it finishes', async () => {
    stubServer(() => 0);
    const { store, conn, sockets } = setup(emptyState(id)); // a draft
    conn.watchSwarm(id);
    await tick();
    expect(sockets).toHaveLength(0);
    expect(store.getState().connection.status).toBe('offline');
    // It gets spawned (status event arrives through a catch-up elsewhere): now it is wanted.
    store.dispatch(liveLoaded({ swarmId: id, state: foldInPlace(emptyState(id), events.slice(0, 2)) }));
    await tick();
    expect(sockets).toHaveLength(1);
    sockets[0]!.emit('swarm_notice', { swarm_id: id, kind: 'finished', status: 'completed' });
    await tick();
    expect(sockets[0]!.disconnects).toBe(1);
    conn.dispose();
  });
});
