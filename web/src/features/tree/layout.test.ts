import { describe, expect, it } from 'vitest';
import type { SwarmState } from '../../api/types';
import { makeNode, syntheticHistory, syntheticState } from '../../bench/synthetic';
import { emptyState, newChatSummary } from '../../fold/fold';
import { foldEvents } from '../../fold/reducer';
import { LIFECYCLE_INDEX } from './glyphs';
import { fitScale, NODE_R, TreeLayout, UNIT_Y } from './layout';

/** The view the readability figures assume: the tree page's canvas on a 1280x800 window. */
const VIEW_W = 1200;
const VIEW_H = 700;

/** A root whose plan has `n - 1` subtasks: the widest possible fan-out. */
function fanOut(n: number): SwarmState {
  const state = emptyState('fan');
  state.root_node_id = 'n';
  state.nodes.n = makeNode('fan', 'n', null, 0, 0, 1);
  for (let k = 1; k < n; k++) {
    const id = `n.${k}`;
    state.nodes[id] = makeNode('fan', id, 'n', 1, 3, 5);
    state.nodes.n!.children.push(id);
  }
  for (const id in state.nodes) state.chats[`c.${id}`] = newChatSummary(`c.${id}`, id, id);
  state.seq = n;
  return state;
}

function layoutOf(state: SwarmState): TreeLayout {
  const L = new TreeLayout();
  L.sync(state);
  L.ensure();
  return L;
}

/** Glyph diameter (px) at "Fit" in the standard view. */
function glyphAtFit(L: TreeLayout): number {
  return 2 * NODE_R * fitScale(L.bounds(), VIEW_W, VIEW_H);
}

/** Every pair of drawn glyphs is at least a glyph apart (checked through a grid of cells). */
function expectNoOverlap(L: TreeLayout) {
  const cell = 2 * NODE_R;
  const grid = new Map<string, number[]>();
  for (let i = 0; i < L.size; i++) {
    if (L.hidden[i]) continue;
    const gx = Math.floor(L.x[i]! / cell);
    const gy = Math.floor(L.y[i]! / cell);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of grid.get(`${gx + dx},${gy + dy}`) ?? []) {
          const d = Math.hypot(L.x[i]! - L.x[j]!, L.y[i]! - L.y[j]!);
          expect(d, `${L.ids[i]} vs ${L.ids[j]}`).toBeGreaterThanOrEqual(2 * NODE_R);
        }
      }
    }
    const key = `${gx},${gy}`;
    grid.set(key, [...(grid.get(key) ?? []), i]);
  }
}

/** Each child is below its parent and inside its parent's box; siblings' boxes do not overlap. */
function expectNested(L: TreeLayout) {
  for (let i = 0; i < L.size; i++) {
    if (L.hidden[i]) continue;
    const kids = L.shownChildren(i);
    for (const c of kids) {
      expect(L.y[c]!).toBeGreaterThanOrEqual(L.y[i]! + UNIT_Y);
      expect(L.bx0[c]!).toBeGreaterThanOrEqual(L.bx0[i]! - 1e-9);
      expect(L.bx1[c]!).toBeLessThanOrEqual(L.bx1[i]! + 1e-9);
      expect(L.by1[c]!).toBeLessThanOrEqual(L.by1[i]! + 1e-9);
    }
    for (let a = 0; a < kids.length; a++) {
      for (let b = a + 1; b < Math.min(kids.length, a + 40); b++) {
        const p = kids[a]!;
        const q = kids[b]!;
        const apart = L.bx1[p]! <= L.bx0[q]! + 1e-9 || L.bx1[q]! <= L.bx0[p]! + 1e-9 || L.by1[p]! < L.y[q]! || L.by1[q]! < L.y[p]!;
        expect(apart, `${L.ids[p]} and ${L.ids[q]} overlap`).toBe(true);
      }
    }
  }
}

describe('tree layout', () => {
  it('places 2,000 nodes without overlaps, children under their parent, sibling boxes apart', () => {
    const L = layoutOf(syntheticState(2_000));
    expect(L.size).toBe(2_000);
    expectNoOverlap(L);
    expectNested(L);
  });

  it('wraps a 275-node fan-out into rows: both dimensions used, glyphs readable at Fit', () => {
    const L = layoutOf(fanOut(275));
    expectNoOverlap(L);
    expectNested(L);
    const b = L.bounds();
    const ratio = (b.x1 - b.x0) / (b.y1 - b.y0);
    expect(ratio).toBeLessThan(6);
    expect(ratio).toBeGreaterThan(0.5);
    // A one-row layout is 275 x 28 = 7,700 units across: 2.8 px glyphs in a band a few px high.
    expect(glyphAtFit(L)).toBeGreaterThanOrEqual(10);
    // The children keep their order, row by row.
    const kids = L.children[L.root]!;
    for (let k = 1; k < kids.length; k++) {
      const a = kids[k - 1]!;
      const c = kids[k]!;
      expect(L.y[c]! > L.y[a]! || (L.y[c] === L.y[a] && L.x[c]! > L.x[a]!)).toBe(true);
    }
  });

  it('keeps a synthetic 275-node and a 5,000-node tree readable at Fit', () => {
    expect(glyphAtFit(layoutOf(syntheticState(275)))).toBeGreaterThanOrEqual(8);
    const big = layoutOf(syntheticState(5_000));
    expectNoOverlap(big);
    expect(glyphAtFit(big)).toBeGreaterThanOrEqual(1.2); // the one-row layout: 0.2 px
    const b = big.bounds();
    expect((b.x1 - b.x0) / (b.y1 - b.y0)).toBeLessThan(8);
  });

  it('lays out a small plan as one row, the parent centred over its children', () => {
    const L = layoutOf(fanOut(4));
    const kids = L.children[L.root]!;
    expect(new Set(kids.map((c) => L.y[c])).size).toBe(1);
    expect(L.x[L.root]).toBeCloseTo((L.x[kids[0]!]! + L.x[kids[2]!]!) / 2, 6);
  });

  it('grown event by event (as live events arrive) equals a layout built from the final state', () => {
    const events = syntheticHistory(6_000, 'g', 6);
    const L = new TreeLayout();
    let state = emptyState('g');
    L.sync(state);
    for (let i = 0; i < events.length; i += 37) {
      state = foldEvents(state, events.slice(i, i + 37));
      L.sync(state);
      if (i % 370 === 0) L.ensure(); // geometry computed along the way, as drawing does
    }
    L.ensure();
    expect(L.rebuilds).toBeLessThanOrEqual(2); // the first sync with a root, at most
    const fresh = layoutOf(state);
    expect(L.size).toBe(fresh.size);
    for (let i = 0; i < fresh.size; i++) {
      const j = L.index.get(fresh.ids[i]!)!;
      expect(L.x[j]).toBeCloseTo(fresh.x[i]!, 6);
      expect(L.y[j]).toBeCloseTo(fresh.y[i]!, 6);
    }
  });

  it('rebuilds when the state goes back in time (history slider)', () => {
    const events = syntheticHistory(3_000, 'h', 5);
    const L = new TreeLayout();
    L.sync(foldEvents(emptyState('h'), events));
    const early = foldEvents(emptyState('h'), events.slice(0, 1_000));
    L.sync(early);
    expect(L.size).toBe(Object.keys(early.nodes).length);
    L.ensure();
    expectNoOverlap(L);
  });

  it('hit-tests every node at its own centre, and misses between rows', () => {
    const L = layoutOf(syntheticState(3_000));
    for (let i = 0; i < L.size; i += 7) expect(L.hitTest(L.x[i]!, L.y[i]!, NODE_R)).toBe(i);
    expect(L.hitTest(L.x[L.root]!, L.y[L.root]! + UNIT_Y / 2, NODE_R)).toBe(-1);
  });

  it('visits only what meets the viewport, and everything inside it', () => {
    const L = layoutOf(syntheticState(20_000));
    const b = L.bounds();
    const cx = (b.x0 + b.x1) / 2;
    const cy = (b.y0 + b.y1) / 2;
    const v = { x0: cx - 600, x1: cx + 600, y0: cy - 350, y1: cy + 350 };
    const seen = new Set<number>();
    L.visit(v, (i) => seen.add(i), () => {});
    expect(seen.size).toBeGreaterThan(0);
    expect(seen.size).toBeLessThan(L.size / 5);
    for (let i = 0; i < L.size; i++) {
      if (L.x[i]! >= v.x0 && L.x[i]! <= v.x1 && L.y[i]! >= v.y0 && L.y[i]! <= v.y1) expect(seen.has(i)).toBe(true);
    }
  });

  it('follows lifecycle changes without touching the structure', () => {
    const state = syntheticState(100);
    const L = layoutOf(state);
    const s0 = L.structure;
    const id = Object.keys(state.nodes)[5]!;
    const next: SwarmState = { ...state, seq: state.seq + 1, nodes: { ...state.nodes, [id]: { ...state.nodes[id]!, lifecycle: 'failed' } } };
    expect(L.sync(next)).toBe(true);
    expect(L.structure).toBe(s0);
    expect(L.lifecycle[L.index.get(id)!]).toBe(LIFECYCLE_INDEX.get('failed'));
  });
});

describe('collapsing subtrees', () => {
  it('hides the descendants, counts them, and shrinks the drawing; expanding restores it', () => {
    const state = syntheticState(1_000);
    const L = layoutOf(state);
    const before = { ...L.bounds() };
    const xsBefore = Float64Array.from(L.x);
    const rootKids = L.children[L.root]!;
    const big = [...rootKids].sort((a, b) => L.descendants[b]! - L.descendants[a]!)[0]!;
    const hiddenCount = L.descendants[big]!;
    expect(hiddenCount).toBeGreaterThan(10);

    expect(L.setCollapsed([L.ids[big]!])).toBe(true);
    L.ensure();
    let hidden = 0;
    for (let i = 0; i < L.size; i++) hidden += L.hidden[i]!;
    expect(hidden).toBe(hiddenCount);
    expect(L.hidden[big]).toBe(0);
    expect(L.shownChildren(big)).toEqual([]);
    const seen = new Set<number>();
    L.visit({ x0: -1e9, x1: 1e9, y0: -1e9, y1: 1e9 }, (i) => seen.add(i), () => {});
    expect(seen.size).toBe(L.size - hiddenCount);
    const after = L.bounds();
    expect((after.x1 - after.x0) * (after.y1 - after.y0)).toBeLessThan((before.x1 - before.x0) * (before.y1 - before.y0));
    // A hidden node stands behind its collapsed ancestor, and cannot be hit.
    const inside = L.children[big]![0]!;
    expect(L.visibleAncestor(inside)).toBe(big);
    expect(L.collapsedAncestors(inside)).toEqual([L.ids[big]]);
    expect(L.hitTest(L.x[inside]!, L.y[inside]!, 1)).not.toBe(inside);
    expectNoOverlap(L);
    expectNested(L);

    expect(L.setCollapsed([])).toBe(true);
    L.ensure();
    expect(Array.from(L.x)).toEqual(Array.from(xsBefore));
    expect(L.setCollapsed([])).toBe(false);
  });

  it("summarises a collapsed subtree by its most urgent lifecycle", () => {
    const state = fanOut(6);
    state.nodes['n.3'] = { ...state.nodes['n.3']!, lifecycle: 'failed' };
    state.nodes['n.4'] = { ...state.nodes['n.4']!, lifecycle: 'waiting_user' };
    const L = layoutOf(state);
    expect(L.descendants[L.root]).toBe(5);
    expect(L.worst[L.root]).toBe(LIFECYCLE_INDEX.get('failed'));
    const calm = fanOut(6);
    calm.nodes['n.2'] = { ...calm.nodes['n.2']!, lifecycle: 'waiting_user' };
    expect(layoutOf(calm).worst[0]).toBe(LIFECYCLE_INDEX.get('waiting_user'));
  });

  it('keeps the collapsed set across live growth, and forgets it for another swarm', () => {
    const L = layoutOf(syntheticState(300, 'a'));
    L.setCollapsed(['n.1']);
    L.sync(syntheticState(400, 'a')); // same swarm, a rebuild (not an append order): the set stays
    expect(L.collapsed.has('n.1')).toBe(true);
    L.sync(syntheticState(50, 'b'));
    expect(L.collapsed.size).toBe(0);
  });
});

describe('keyboard steps', () => {
  it('go to the parent, the first shown child and the siblings, and stop at the ends', () => {
    const L = layoutOf(fanOut(4));
    const [a, b, c] = L.children[L.root]!;
    expect(L.step(L.root, 'child')).toBe(a);
    expect(L.step(a!, 'next')).toBe(b);
    expect(L.step(c!, 'next')).toBe(c);
    expect(L.step(a!, 'prev')).toBe(a);
    expect(L.step(b!, 'parent')).toBe(L.root);
    expect(L.step(L.root, 'parent')).toBe(L.root);
    expect(L.step(-1, 'next')).toBe(L.root);
    L.setCollapsed(['n']);
    expect(L.step(L.root, 'child')).toBe(L.root);
  });
});
