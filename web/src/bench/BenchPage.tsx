// /__bench: drives the app's real store, reducer, seeker and tree renderer with synthetic data, for
// bench/web/run.mjs (Playwright). Nothing here talks to the server.
import { useEffect, useRef, useState } from 'react';
import type { SwarmHistory, SwarmState } from '../api/types';
import { foldInPlace, emptyState, newChatSummary } from '../fold/fold';
import { deepFreeze } from '../lib/freeze';
import { HistorySeeker, STRIDE } from '../features/history/seeker';
import { useAppDispatch, useAppSelector, type AppDispatch } from '../app/store';
import { liveLoaded, liveLoading } from '../features/live/liveSlice';
import { selectViewState } from '../features/history/selectors';
import TreeCanvas, { type TreeCanvasHandle } from '../features/tree/TreeCanvas';
import { makeNode, syntheticHistory, syntheticState } from './synthetic';

const SWARM = 'bench';

function percentile(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function summary(xs: number[]) {
  return {
    n: xs.length,
    mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    max: Math.max(0, ...xs),
  };
}

interface SceneCompare {
  cached: boolean;
  differing: number;
  maxDelta: number;
}
export interface SceneCheck extends SceneCompare {
  pixels: number;
  /** After a node is selected (its ring is part of the picture): the next frame drawn directly, then copied. */
  afterSelect: SceneCompare & { firstCached: boolean };
}

export interface BenchApi {
  tree(n: number): Promise<{ nodes: number; firstRenderMs: number; layoutRebuilds: number }>;
  pan(frames: number, view?: 'detail' | 'fit'): Promise<{ draw: ReturnType<typeof summary>; frame: ReturnType<typeof summary>; fps: number; drawn: number }>;
  seek(events: number, seeks: number): Promise<Record<string, unknown>>;
  /** The glyph diameter (CSS px) at "Fit" for the tree now loaded (see tree() and fanOut()). */
  glyphAtFit(): Promise<{ nodes: number; glyphPx: number; width: number; height: number }>;
  /** Load a root with n - 1 children: the widest fan-out. */
  fanOut(n: number): Promise<{ nodes: number }>;
  /**
   * With the whole tree on screen: whether frames are copied from the tree's bitmap, and how such a frame
   * differs from the same view drawn directly (after a pan by whole pixels from where the bitmap was made):
   * pixels that differ at all, and the largest difference of a colour channel (0-255; antialiasing may round
   * a pixel's edge coverage one step apart).
   */
  sceneCheck(): Promise<SceneCheck>;
}

declare global {
  interface Window {
    __bench?: BenchApi;
    __benchReady?: boolean;
  }
}

function nextFrame(): Promise<number> {
  return new Promise((r) => requestAnimationFrame(r));
}

export default function BenchPage() {
  const dispatch = useAppDispatch();
  const state = useAppSelector((s) => selectViewState(s, SWARM));
  const handle = useRef<TreeCanvasHandle>(null);
  const frameWaiters = useRef<((ms: number) => void)[]>([]);
  const [status, setStatus] = useState('ready');

  useEffect(() => {
    window.__bench = makeApi(dispatch, handle, frameWaiters, setStatus);
    window.__benchReady = true;
    return () => {
      delete window.__bench;
      window.__benchReady = false;
    };
  }, [dispatch]);

  return (
    <div className="bench-page">
      <h1>Tree benchmark</h1>
      <p role="status">{status}</p>
      <div className="bench-stage">
        <TreeCanvas
          handleRef={handle}
          state={state}
          selectedId={null}
          highlightId={null}
          onSelect={() => {}}
          label="Benchmark tree"
          onFrame={(ms) => {
            const w = frameWaiters.current;
            frameWaiters.current = [];
            for (const f of w) f(ms);
          }}
        />
      </div>
    </div>
  );
}

function makeApi(
  dispatch: AppDispatch,
  handle: React.RefObject<TreeCanvasHandle | null>,
  frameWaiters: React.RefObject<((ms: number) => void)[]>,
  setStatus: (s: string) => void,
): BenchApi {
  const waitFrame = () => new Promise<number>((r) => frameWaiters.current.push(r));
  return {
    async tree(n) {
      setStatus(`building ${n} nodes`);
      const st = syntheticState(n, SWARM);
      dispatch(liveLoading(SWARM));
      await nextFrame();
      await nextFrame();
      const t0 = performance.now();
      const drawn = waitFrame();
      dispatch(liveLoaded({ swarmId: SWARM, state: deepFreeze(st) })); // as loadLive does
      await drawn;
      const firstRenderMs = performance.now() - t0;
      const r = handle.current?.renderer();
      setStatus(`tree of ${n} nodes`);
      return { nodes: r?.layout.size ?? 0, firstRenderMs, layoutRebuilds: r?.layout.rebuilds ?? 0 };
    },

    async pan(frames, view = 'detail') {
      const r = handle.current?.renderer();
      if (!r) throw new Error('no renderer');
      if (view === 'fit') {
        // The whole tree on screen: every node drawn every frame (the worst case).
        r.fit();
      } else {
        // A readable scale (glyphs about 9 px) around the middle of the tree.
        r.camera.scale = 1;
        const b = r.layout.bounds();
        r.camera.ox = r.width / 2 - (b.x1 / 2) * 1;
        r.camera.oy = 40;
      }
      r.draw();
      const draws: number[] = [];
      const gaps: number[] = [];
      let last = await nextFrame();
      const t0 = last;
      for (let f = 0; f < frames; f++) {
        const now = await nextFrame();
        gaps.push(now - last);
        last = now;
        const step = view === 'fit' ? 3 : 12;
        r.camera.ox += f % 240 < 120 ? -step : step;
        r.camera.oy += f % 60 < 30 ? -1 : 1;
        r.draw();
        draws.push(r.stats.ms);
      }
      const fps = (frames * 1000) / (last - t0);
      return { draw: summary(draws), frame: summary(gaps), fps, drawn: r.stats.drawn };
    },

    async glyphAtFit() {
      const r = handle.current?.renderer();
      if (!r) throw new Error('no renderer');
      r.fit();
      r.draw();
      const b = r.layout.bounds();
      return { nodes: r.layout.size, glyphPx: r.glyphPx(), width: b.x1 - b.x0, height: b.y1 - b.y0 };
    },

    async sceneCheck() {
      const r = handle.current?.renderer();
      const canvas = document.querySelector<HTMLCanvasElement>('.bench-stage canvas');
      const ctx = canvas?.getContext('2d');
      if (!r || !canvas || !ctx) throw new Error('no renderer');
      const pixels = () => ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      // This frame (copied when the bitmap is in use) against the same view drawn directly.
      const compare = (): SceneCompare => {
        const cached = r.cached;
        const a = pixels();
        r.useScene = false;
        r.draw();
        const b = pixels();
        r.useScene = true;
        let differing = 0;
        let maxDelta = 0;
        for (let k = 0; k < a.length; k += 4) {
          const d = Math.max(Math.abs(a[k]! - b[k]!), Math.abs(a[k + 1]! - b[k + 1]!), Math.abs(a[k + 2]! - b[k + 2]!));
          if (d) differing++;
          maxDelta = Math.max(maxDelta, d);
        }
        return { cached, differing, maxDelta };
      };
      r.useScene = true;
      r.selected = -1;
      r.fit();
      r.draw();
      r.draw(); // the same view twice: the bitmap is made
      r.camera.ox += 17; // a pan by whole pixels, as a drag makes
      r.camera.oy -= 9;
      r.draw();
      const first = compare();
      r.selected = r.layout.root;
      r.draw();
      const firstCached = r.cached;
      r.camera.ox -= 5;
      r.draw();
      const afterSelect = { firstCached, ...compare() };
      r.selected = -1;
      return { ...first, pixels: canvas.width * canvas.height, afterSelect };
    },

    async fanOut(n) {
      const st = syntheticState(1, SWARM);
      for (let k = 1; k < n; k++) {
        const id = `n.${k}`;
        st.nodes[id] = makeNode(SWARM, id, 'n', 1, k % 6, k % 8);
        st.nodes.n!.children.push(id);
        st.chats[`c.${id}`] = newChatSummary(`c.${id}`, id, id);
      }
      st.seq = n + 1;
      const drawn = waitFrame();
      dispatch(liveLoaded({ swarmId: SWARM, state: deepFreeze(st) }));
      await drawn;
      return { nodes: handle.current?.renderer()?.layout.size ?? 0 };
    },

    async seek(count, seeks) {
      setStatus(`building a history of ${count} events`);
      await nextFrame();
      const events = syntheticHistory(count, SWARM);
      const last = events.length;
      // Targets spread over the whole history; the "server" serves snapshots at STRIDE anchors as JSON.
      const targets: number[] = [];
      let x = 12345;
      for (let i = 0; i < seeks; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        targets.push(1 + (x % last));
      }
      // Near an earlier point but not on it: what dragging the slider back and forth asks for.
      const nearby = targets.map((t, i) => Math.min(last, Math.max(1, t + ((i * 7919) % 3000) - 1500)));
      const anchors = new Set([...targets, ...nearby].map((t) => Math.floor(t / STRIDE) * STRIDE));
      const snapshots = new Map<number, string>();
      const s = emptyState(SWARM);
      if (anchors.has(0)) snapshots.set(0, JSON.stringify(s));
      for (const ev of events) {
        foldInPlace(s, [ev]);
        if (anchors.has(ev.seq)) snapshots.set(ev.seq, JSON.stringify(s));
      }
      const fullState = s;
      const source = {
        async stateAt(seq: number): Promise<SwarmState> {
          const json = snapshots.get(seq);
          if (!json) throw new Error(`no snapshot at ${seq}`);
          return deepFreeze(JSON.parse(json) as SwarmState); // as the app's source does
        },
        async history(after: number, limit: number): Promise<SwarmHistory> {
          return { swarm_id: SWARM, events: events.slice(after, after + limit), first_seq: 1, last_seq: last };
        },
      };
      setStatus(`seeking ${seeks} times in ${count} events`);
      // Cold: a new seeker each time (no checkpoints, no cached pages): snapshot + page + fold.
      const cold: number[] = [];
      for (const t of targets) {
        const seeker = new HistorySeeker(SWARM, source);
        const t0 = performance.now();
        await seeker.seek(t, null);
        cold.push(performance.now() - t0);
      }
      // Warm: one seeker, pages and checkpoints cached from earlier seeks, like dragging the slider.
      const seeker = new HistorySeeker(SWARM, source);
      for (const t of targets) await seeker.seek(t, null);
      const warm: number[] = [];
      let cur: SwarmState | null = null;
      for (const t of nearby) {
        const t0 = performance.now();
        cur = await seeker.seek(t, cur);
        warm.push(performance.now() - t0);
      }
      // Stepping one event forward from the shown state (what play and the step button do).
      const step: number[] = [];
      cur = await seeker.seek(Math.floor(last / 2), null);
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        cur = await seeker.seek(cur.seq + 1, cur);
        step.push(performance.now() - t0);
      }
      // Reference: folding the whole history from empty, no snapshot.
      const t0 = performance.now();
      const folded = await new HistorySeeker(SWARM, { ...source, stateAt: async () => emptyState(SWARM) }).seek(last, null);
      const fullFoldMs = performance.now() - t0;
      const agree = JSON.stringify(folded) === JSON.stringify(fullState);
      setStatus('done');
      return {
        events: last,
        nodes: Object.keys(fullState.nodes).length,
        cold: summary(cold),
        warm: summary(warm),
        step: summary(step),
        fullFoldMs,
        foldAgreesWithPlainFold: agree,
      };
    },
  };
}
