// Seeking in a swarm's history: the state at any seq is a snapshot (the server's `state?at=`, or a
// checkpoint this client folded earlier) folded forward through the same reducer the live store uses.
//
// - Events are fetched by `history?after=` in aligned pages and cached (LRU), never all at once.
// - A seek folds locally from the current position or the nearest checkpoint when that is close (within
//   STRIDE events, or within LOCAL_LIMIT when those events are cached); otherwise it asks the server for
//   the state at the STRIDE-aligned anchor below the target (`state?at=`: the server keeps snapshots every
//   `snapshot_every` events) and folds the rest, fetching at most one or two pages of events.
// - States are immutable (Immer), so checkpoints share every untouched node: they are cheap to keep.
import type { SwarmEvent, SwarmHistory, SwarmState } from '../../api/types';
import { emptyState } from '../../fold/fold';
import { foldEvents } from '../../fold/reducer';

export const STRIDE = 256;
export const PAGE = 1000;
export const LOCAL_LIMIT = 8192;
const MAX_CHECKPOINTS = 48;
const MAX_PAGES = 64;

export interface HistorySource {
  /** GET state?at=seq */
  stateAt(seq: number): Promise<SwarmState>;
  /** GET history?after=after&limit=limit */
  history(after: number, limit: number): Promise<SwarmHistory>;
  /** The seq of the earliest retained event (older ones may have been compacted away). */
  firstSeq?(): Promise<number>;
}

export interface SeekStats {
  snapshotsFetched: number;
  pagesFetched: number;
  eventsFolded: number;
}

export class HistorySeeker {
  readonly swarmId: string;
  private source: HistorySource;
  /** Lowest seq whose state can be shown (0, or first_seq - 1 once history was compacted). */
  minSeq: number;
  private pages = new Map<number, SwarmEvent[]>();
  private pageFull = new Set<number>();
  private checkpoints = new Map<number, SwarmState>();
  private used = new Map<number, number>(); // checkpoint seq -> last use tick
  private tick = 0;
  private boundsKnown = false;
  stats: SeekStats = { snapshotsFetched: 0, pagesFetched: 0, eventsFolded: 0 };

  constructor(swarmId: string, source: HistorySource, opts: { minSeq?: number } = {}) {
    this.swarmId = swarmId;
    this.source = source;
    this.minSeq = opts.minSeq ?? 0;
    if (this.minSeq === 0) this.checkpoints.set(0, emptyState(swarmId));
  }

  /** Live events arriving while scrubbing extend the cached page they fall into (if contiguous). */
  addEvents(events: readonly SwarmEvent[]): void {
    for (const ev of events) {
      const k = pageOf(ev.seq);
      const page = this.pages.get(k);
      if (!page || this.pageFull.has(k)) continue;
      const last = page.length ? page[page.length - 1]!.seq : k * PAGE;
      if (ev.seq === last + 1) {
        page.push(ev);
        if (ev.seq === (k + 1) * PAGE) this.pageFull.add(k);
      }
    }
  }

  /** Are the events after < seq <= upTo all in cached pages? */
  cached(after: number, upTo: number): boolean {
    for (let k = pageOf(after + 1); k <= pageOf(upTo); k++) {
      const page = this.pages.get(k);
      if (!page) return false;
      const have = page.length ? page[page.length - 1]!.seq : k * PAGE;
      if (!this.pageFull.has(k) && have < Math.min(upTo, (k + 1) * PAGE)) return false;
    }
    return true;
  }

  /** The events with after < seq <= upTo, fetching missing pages. */
  async events(after: number, upTo: number): Promise<SwarmEvent[]> {
    const out: SwarmEvent[] = [];
    if (upTo <= after) return out;
    for (let k = pageOf(after + 1); k <= pageOf(upTo); k++) {
      let page = this.pages.get(k);
      const needEnd = Math.min(upTo, (k + 1) * PAGE);
      const have = page && page.length ? page[page.length - 1]!.seq : k * PAGE;
      if (!page || (!this.pageFull.has(k) && have < needEnd)) {
        page = await this.fetchPage(k);
      }
      this.pages.delete(k);
      this.pages.set(k, page); // LRU order
      for (const ev of page) if (ev.seq > after && ev.seq <= upTo) out.push(ev);
    }
    while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    return out;
  }

  private async fetchPage(k: number): Promise<SwarmEvent[]> {
    const h = await this.source.history(k * PAGE, PAGE);
    this.stats.pagesFetched += 1;
    if (h.first_seq > 1) this.minSeq = Math.max(this.minSeq, h.first_seq - 1);
    const page = h.events.filter((e) => e.seq > k * PAGE && e.seq <= (k + 1) * PAGE);
    this.pages.set(k, page);
    if (page.length && page[page.length - 1]!.seq === (k + 1) * PAGE) this.pageFull.add(k);
    else this.pageFull.delete(k);
    return page;
  }

  private nearestCheckpoint(target: number): SwarmState | null {
    let best: SwarmState | null = null;
    for (const [seq, st] of this.checkpoints) if (seq <= target && (!best || seq > best.seq)) best = st;
    return best;
  }

  private remember(state: SwarmState): void {
    this.checkpoints.set(state.seq, state);
    this.used.set(state.seq, ++this.tick);
    if (this.checkpoints.size > MAX_CHECKPOINTS) {
      let oldest = -1;
      let oldestTick = Infinity;
      for (const [seq, t] of this.used) {
        if (seq !== 0 && t < oldestTick) {
          oldest = seq;
          oldestTick = t;
        }
      }
      this.checkpoints.delete(oldest);
      this.used.delete(oldest);
    }
  }

  /**
   * The state at `target`. `current` (the state on screen) is used as a starting point when it is at or
   * before the target and close enough.
   */
  async seek(target: number, current: SwarmState | null = null): Promise<SwarmState> {
    if (!this.boundsKnown && this.source.firstSeq) {
      const first = await this.source.firstSeq();
      this.boundsKnown = true;
      if (first > 1 && first - 1 > this.minSeq) {
        this.minSeq = first - 1; // compacted: nothing before the snapshot at the cut
        this.checkpoints.delete(0);
        this.used.delete(0);
      }
    }
    target = Math.max(this.minSeq, target);
    if (current && current.swarm_id === this.swarmId && current.seq === target) return current;
    let base: SwarmState | null = this.nearestCheckpoint(target);
    if (current && current.swarm_id === this.swarmId && current.seq <= target && (!base || current.seq > base.seq)) {
      base = current;
    }
    // Fold locally when the base is close, or when it is not too far and the events are already here;
    // otherwise fetching the events would cost more than a snapshot: seed from `state?at=`.
    const dist = base ? target - base.seq : Infinity;
    const local = dist <= STRIDE || (dist <= LOCAL_LIMIT && this.cached(target - dist, target));
    if (!base || !local) {
      const anchor = Math.max(this.minSeq, Math.floor(target / STRIDE) * STRIDE);
      let snap = this.checkpoints.get(anchor);
      if (!snap) {
        snap = await this.source.stateAt(anchor);
        this.stats.snapshotsFetched += 1;
      }
      this.remember(snap);
      if (!base || snap.seq > base.seq) base = snap;
    } else if (this.checkpoints.get(base.seq) === base) {
      this.used.set(base.seq, ++this.tick);
    }
    const events = await this.events(base.seq, target);
    return this.foldFrom(base, events);
  }

  /**
   * One fold for the whole range (each batch copies the node and chat maps once, so fewer, longer folds
   * are cheaper), and the result is kept as a checkpoint for the next seek nearby.
   */
  private foldFrom(base: SwarmState, events: SwarmEvent[]): SwarmState {
    const state = foldEvents(base, events);
    this.stats.eventsFolded += events.length;
    if (state !== base) this.remember(state);
    return state;
  }
}

function pageOf(seq: number): number {
  return Math.max(0, Math.floor((seq - 1) / PAGE));
}
