import { describe, expect, it } from 'vitest';
import type { SwarmState } from '../api/types';
import { syntheticHistory, syntheticState } from '../bench/synthetic';
import { emptyState } from '../fold/fold';
import { foldEvents } from '../fold/reducer';
import { TreeLayout, UNIT_X, UNIT_Y } from './layout';

/** Reference layout computed from scratch: leaf-slot widths, children left to right under the parent. */
function reference(state: SwarmState): Map<string, { x: number; y: number }> {
  const out = new Map<string, { x: number; y: number }>();
  const width = new Map<string, number>();
  const w = (id: string): number => {
    const cached = width.get(id);
    if (cached !== undefined) return cached;
    const n = state.nodes[id]!;
    const v = n.children.length ? n.children.reduce((a, c) => a + w(c), 0) : 1;
    width.set(id, v);
    return v;
  };
  const place = (id: string, left: number) => {
    const n = state.nodes[id]!;
    out.set(id, { x: (left + w(id) / 2) * UNIT_X, y: n.depth * UNIT_Y });
    let l = left;
    for (const c of n.children) {
      place(c, l);
      l += w(c);
    }
  };
  if (state.root_node_id) place(state.root_node_id, 0);
  return out;
}

function expectMatches(layout: TreeLayout, state: SwarmState) {
  const ref = reference(state);
  expect(layout.size).toBe(ref.size);
  for (const [id, p] of ref) {
    const got = layout.position(layout.index.get(id)!);
    expect(got.x).toBeCloseTo(p.x, 6);
    expect(got.y).toBeCloseTo(p.y, 6);
  }
}

describe('incremental tree layout', () => {
  it('built from a whole state matches the reference layout', () => {
    const state = syntheticState(2_000);
    const L = new TreeLayout();
    L.sync(state);
    expectMatches(L, state);
  });

  it('grown event by event (as live events arrive) matches, without rebuilding', () => {
    const events = syntheticHistory(6_000, 'g', 6);
    const L = new TreeLayout();
    let state = emptyState('g');
    L.sync(state);
    for (let i = 0; i < events.length; i += 37) {
      state = foldEvents(state, events.slice(i, i + 37));
      L.sync(state);
    }
    expectMatches(L, state);
    expect(L.rebuilds).toBeLessThanOrEqual(2); // the first sync with a root, at most
  });

  it('rebuilds when the state goes back in time (history slider)', () => {
    const events = syntheticHistory(3_000, 'h', 5);
    const L = new TreeLayout();
    const late = foldEvents(emptyState('h'), events);
    L.sync(late);
    const early = foldEvents(emptyState('h'), events.slice(0, 1_000));
    L.sync(early);
    expectMatches(L, early);
  });

  it('hit-tests every node at its own centre, and misses between levels', () => {
    const state = syntheticState(3_000);
    const L = new TreeLayout();
    L.sync(state);
    for (let i = 0; i < L.size; i += 7) {
      const p = L.position(i);
      expect(L.hitTest(p.x, p.y, 9)).toBe(i);
    }
    const root = L.position(L.root);
    expect(L.hitTest(root.x, root.y + UNIT_Y / 2, 9)).toBe(-1);
  });

  it('visits only what meets the viewport', () => {
    const state = syntheticState(20_000);
    const L = new TreeLayout();
    L.sync(state);
    const seen: number[] = [];
    const v = { x0: 10_000, x1: 11_200, y0: -20, y1: 700 };
    L.visit(v, (i) => seen.push(i), () => {});
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(L.size / 10);
    for (const i of seen) {
      const p = L.position(i);
      // each visited node's subtree meets the view; the node itself is within a subtree-width of it
      expect(p.y).toBeLessThanOrEqual(v.y1 + 9);
    }
    // Every node whose centre is inside the viewport was visited.
    const inside = [];
    for (let i = 0; i < L.size; i++) {
      const p = L.position(i);
      if (p.x >= v.x0 && p.x <= v.x1 && p.y >= v.y0 && p.y <= v.y1) inside.push(i);
    }
    const set = new Set(seen);
    expect(inside.every((i) => set.has(i))).toBe(true);
  });

  it('follows lifecycle changes without touching positions', () => {
    const state = syntheticState(100);
    const L = new TreeLayout();
    L.sync(state);
    const s0 = L.structure;
    const id = Object.keys(state.nodes)[5]!;
    const next: SwarmState = { ...state, seq: state.seq + 1, nodes: { ...state.nodes, [id]: { ...state.nodes[id]!, lifecycle: 'failed' } } };
    expect(L.sync(next)).toBe(true);
    expect(L.structure).toBe(s0);
    expect(L.lifecycle[L.index.get(id)!]).toBe(6);
  });
});
