// The live connection (Socket.IO, server -> client only).
//
// A socket is open while some view needs it: a swarm page whose swarm is running, or the swarm list while
// any swarm in it is running, unless the server said that swarm is paused, finished or idle (then the
// socket closes). A reply, a spawn or a resume "wakes" the swarm and the socket reopens. On every
// (re)connect each viewed swarm catches up with history?after=<last seq>; the reducer drops duplicates.
import { addListener } from '@reduxjs/toolkit';
import { io, type Socket } from 'socket.io-client';
import { api, listedSwarms, patchSwarmCaches } from '../../api/http';
import type { SwarmEvent, SwarmNotice, SwarmStatus } from '../../api/types';
import type { AppStore } from '../../app/store';
import { resetAll } from '../auth/authSlice';
import { connectionStatus, noticeCleared, noticeReceived, type ConnectionStatus } from './connectionSlice';
import { eventsReceived } from './liveSlice';
import { catchUp } from './thunks';

export interface SocketLike {
  connected: boolean;
  active: boolean;
  connect(): unknown;
  disconnect(): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
}

export type SocketFactory = () => SocketLike;

export const defaultSocketFactory: SocketFactory = () =>
  io({
    path: '/socket.io',
    autoConnect: false,
    withCredentials: true,
    // each committed batch of a swarm's events as one `swarm_events` packet, not one `swarm_event` per event
    auth: { batch: true },
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  }) as Socket as unknown as SocketLike;

const QUIET_KINDS = new Set(['paused', 'finished', 'idle']);

export class LiveConnection {
  private store: AppStore;
  private factory: SocketFactory;
  private socket: SocketLike | null = null;
  private swarmWatchers = new Map<string, number>();
  private listWatchers = 0;
  private quiet = new Set<string>();
  private queue: SwarmEvent[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private scheduled = false;
  private unsubscribe: () => void;

  constructor(store: AppStore, factory: SocketFactory = defaultSocketFactory) {
    this.store = store;
    this.factory = factory;
    const unsubscribe = store.subscribe(() => this.schedule());
    // a logout or a user switch: the previous user's socket and queued events go
    const unlisten = store.dispatch(addListener({ actionCreator: resetAll, effect: () => this.reset() }));
    this.unsubscribe = () => {
      unsubscribe();
      unlisten();
    };
  }

  // ---- what views ask for ---------------------------------------------------------------------
  watchSwarm(swarmId: string): () => void {
    this.swarmWatchers.set(swarmId, (this.swarmWatchers.get(swarmId) ?? 0) + 1);
    this.schedule();
    return () => {
      const n = (this.swarmWatchers.get(swarmId) ?? 1) - 1;
      if (n <= 0) this.swarmWatchers.delete(swarmId);
      else this.swarmWatchers.set(swarmId, n);
      this.schedule();
    };
  }

  watchList(): () => void {
    this.listWatchers += 1;
    this.schedule();
    return () => {
      this.listWatchers -= 1;
      this.schedule();
    };
  }

  /**
   * A reply was posted or the swarm was spawned/resumed: live updates are wanted again. Whatever the socket
   * does, catch up over HTTP at once: the action's own events, and those of a swarm that finished in the
   * same instant, were never pushed to a socket that was closed or not yet connected.
   */
  wake(swarmId: string): void {
    this.quiet.delete(swarmId);
    this.store.dispatch(noticeCleared(swarmId));
    this.evaluate();
    void this.store.dispatch(catchUp(swarmId));
  }

  /**
   * The swarm may have changed where this page could not see it (a pause while the socket was closed, an
   * action refused because the swarm had already finished): catch up and refetch its row.
   */
  refresh(swarmId: string): void {
    this.store.dispatch(api.util.invalidateTags([{ type: 'Swarm', id: swarmId }]));
    void this.store.dispatch(catchUp(swarmId));
  }

  /** After an action on a swarm succeeded: pause only needs its outcome seen; the others want live updates. */
  acted(swarmId: string, action: 'spawn' | 'pause' | 'resume'): void {
    if (action === 'pause') void this.store.dispatch(catchUp(swarmId));
    else this.wake(swarmId);
  }

  /** Logout: forget everything and close. */
  reset(): void {
    this.quiet.clear();
    this.queue = [];
    this.close('offline');
  }

  dispose(): void {
    this.unsubscribe();
    this.reset();
  }

  // ---- deciding -------------------------------------------------------------------------------
  private statusOf(swarmId: string): SwarmStatus[] {
    const s = this.store.getState();
    const out: SwarmStatus[] = [];
    const live = s.live.swarms[swarmId]?.state?.status;
    if (live) out.push(live);
    const one = api.endpoints.getSwarm.select(swarmId)(s).data?.status;
    if (one) out.push(one);
    return out;
  }

  wanted(): boolean {
    if (this.store.getState().auth.status !== 'authenticated') return false;
    for (const id of this.swarmWatchers.keys()) {
      if (this.quiet.has(id)) continue;
      if (this.statusOf(id).includes('running')) return true;
    }
    if (this.listWatchers > 0) {
      const list = listedSwarms(api.endpoints.listSwarms.select()(this.store.getState()).data);
      for (const s of list) if (s.status === 'running' && !this.quiet.has(s.id)) return true;
    }
    return false;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.evaluate();
      this.fillGaps();
    });
  }

  private evaluate(): void {
    const want = this.wanted();
    if (want && !this.socket) this.open();
    else if (!want && this.socket) this.close('offline');
  }

  /** Events past a gap are waiting in the live slice: fetch what is missing. */
  private fillGaps(): void {
    if (!this.socket?.connected) return;
    const swarms = this.store.getState().live.swarms;
    for (const id of this.swarmWatchers.keys()) {
      const e = swarms[id];
      if (e?.state && e.pending.length) void this.store.dispatch(catchUp(id));
    }
  }

  private setStatus(status: ConnectionStatus, error: string | null = null): void {
    const cur = this.store.getState().connection;
    if (cur.status !== status || cur.error !== error) this.store.dispatch(connectionStatus({ status, error }));
  }

  // ---- the socket -----------------------------------------------------------------------------
  private open(): void {
    const socket = this.factory();
    this.socket = socket;
    this.setStatus('connecting');
    socket.on('connect', () => void this.onConnect(socket));
    socket.on('disconnect', ((reason: string) => {
      if (this.socket !== socket) return;
      if (reason === 'io client disconnect') return;
      this.setStatus('reconnecting');
      // The server closed the socket on purpose: socket.io will not retry by itself.
      if (reason === 'io server disconnect') this.retryLater(socket, 1000);
    }) as (...args: never[]) => void);
    socket.on('connect_error', ((err: Error) => {
      if (this.socket !== socket) return;
      if (socket.active) {
        this.setStatus('reconnecting');
      } else {
        // Refused (e.g. the session expired): a cheap authenticated call finds out, then retry.
        this.setStatus('error', err?.message ?? 'refused');
        void this.store.dispatch(api.endpoints.me.initiate(undefined, { subscribe: false, forceRefetch: true }));
        this.retryLater(socket, 5000);
      }
    }) as (...args: never[]) => void);
    socket.on('swarm_events', ((evs: SwarmEvent[]) => {
      for (const ev of evs) this.enqueue(ev);
    }) as (...args: never[]) => void);
    socket.on('swarm_event', ((ev: SwarmEvent) => this.enqueue(ev)) as (...args: never[]) => void);
    socket.on('swarm_notice', ((n: SwarmNotice) => this.onNotice(n)) as (...args: never[]) => void);
    socket.connect();
  }

  private retryLater(socket: SocketLike, ms: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.socket === socket && !socket.connected && this.wanted()) socket.connect();
    }, ms);
  }

  private close(status: ConnectionStatus): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flush();
    const s = this.socket;
    this.socket = null;
    s?.disconnect();
    this.setStatus(status);
  }

  private async onConnect(socket: SocketLike): Promise<void> {
    if (this.socket !== socket) return;
    this.setStatus('catching_up');
    const ids = [...this.swarmWatchers.keys()].filter((id) => this.store.getState().live.swarms[id]?.state);
    if (this.listWatchers > 0) this.store.dispatch(api.util.invalidateTags([{ type: 'Swarm', id: 'LIST' }]));
    await Promise.all(ids.map((id) => this.store.dispatch(catchUp(id))));
    if (this.socket === socket && socket.connected) this.setStatus('live');
  }

  private enqueue(ev: SwarmEvent): void {
    this.queue.push(ev);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 16);
  }

  /** Deliver queued events, one dispatch per swarm per frame. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.queue.length) return;
    const bySwarm = new Map<string, SwarmEvent[]>();
    for (const ev of this.queue) {
      const list = bySwarm.get(ev.swarm_id);
      if (list) list.push(ev);
      else bySwarm.set(ev.swarm_id, [ev]);
    }
    this.queue = [];
    for (const [swarmId, events] of bySwarm) this.store.dispatch(eventsReceived({ swarmId, events }));
  }

  private onNotice(n: SwarmNotice): void {
    this.flush();
    patchSwarmCaches(this.store.dispatch, n.swarm_id, { status: n.status });
    // Finished, paused or gone quiet: its outcome and the questions waiting on the person may have changed.
    this.store.dispatch(api.util.invalidateTags([{ type: 'Swarm', id: n.swarm_id }]));
    // Events the socket did not bring (past a gap) are fetched before it closes for a quiet swarm.
    const live = this.store.getState().live.swarms[n.swarm_id]?.state;
    if (live && live.status !== n.status) void this.store.dispatch(catchUp(n.swarm_id));
    if (QUIET_KINDS.has(n.kind)) {
      this.quiet.add(n.swarm_id);
      this.store.dispatch(noticeReceived({ swarmId: n.swarm_id, kind: n.kind }));
    } else {
      this.quiet.delete(n.swarm_id);
      this.store.dispatch(noticeCleared(n.swarm_id));
    }
    this.evaluate();
  }
}
