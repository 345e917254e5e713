// Tree layout: a compact tidy layout whose wide sibling rows wrap, with collapsible subtrees.
//
// The node index (ids, parents, children, lifecycle, action) follows the swarm state incrementally: a new
// node is appended, a changed one updated in place. The geometry is recomputed in two linear passes when
// the structure or the collapsed set changed (parents always come before their children in the index):
//   - bottom-up, each subtree gets a box. A node's children sit in one row under it when that row is not
//     much wider than it is tall; otherwise they wrap into several rows (left-aligned, a trunk down their
//     left side), so a wide fan-out uses both dimensions instead of becoming a one-row sliver.
//   - top-down, boxes and centres get their world positions.
// Sibling boxes never overlap, so the boxes form a spatial index: drawing visits only the subtrees whose
// box meets the viewport, and a hit test descends the one box that contains the point.
import type { Node, SwarmState } from '../../api/types';
import { ACTION_INDEX, LIFECYCLE_INDEX, summaryRank } from './glyphs';

export const UNIT_X = 28;
export const UNIT_Y = 56;
export const NODE_R = 9;
/** Width of a collapsed node's box: its glyph and the "+N" badge under it. */
export const COLLAPSED_W = 2 * UNIT_X;
/** The width : height of the view that layouts aim at (the tree page's canvas is about 1200 x 700). */
export const TARGET_ASPECT = 1.7;
/** How many row widths are tried for a wide set of children. */
const WRAP_CANDIDATES = 10;
/** Where a wrapped parent's glyph sits (from its box's left edge) and where its rows start. */
const TRUNK_X = NODE_R + 1;
const ROW_INDENT = TRUNK_X + 6;

const NONE: number[] = [];

export interface Viewport {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface Bounds {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The camera scale at which `bounds` fits a width x height view with `pad` px margins. */
export function fitScale(b: Bounds, width: number, height: number, pad = 32, maxScale = 1.5): number {
  const bw = Math.max(b.x1 - b.x0, UNIT_X);
  const bh = Math.max(b.y1 - b.y0, UNIT_Y / 2);
  return Math.min((width - 2 * pad) / bw, (height - 2 * pad) / bh, maxScale);
}

export class TreeLayout {
  swarmId = '';
  seq = -1;
  root = -1;
  ids: string[] = [];
  index = new Map<string, number>();
  parent: number[] = [];
  children: number[][] = [];
  depth: number[] = [];
  lifecycle: number[] = [];
  action: number[] = [];
  refs: Node[] = [];
  /** Ids of collapsed nodes (ids, so the set survives a rebuild of the index). */
  collapsed = new Set<string>();
  /** Bumps on any change that needs a redraw; `structure` only when the index gained or lost nodes. */
  version = 0;
  structure = 0;
  rebuilds = 0;
  // Geometry, valid for `geometryOf === version` (see ensure()).
  x = new Float64Array(0);
  y = new Float64Array(0);
  /** Subtree box (world): left, right, bottom; its top is the node's own y. */
  bx0 = new Float64Array(0);
  bx1 = new Float64Array(0);
  by1 = new Float64Array(0);
  /** 1 when the node is inside a collapsed subtree (not drawn, not hit). */
  hidden = new Uint8Array(0);
  /** Number of descendants, and the most urgent lifecycle among them (-1: none). */
  descendants = new Int32Array(0);
  worst = new Int8Array(0);
  /** 1 for a collapsed node (from `collapsed`, by index). */
  folded = new Uint8Array(0);
  private geometryOf = -1;
  private summaryOf = -1;
  private collapseVersion = 0;
  private nodesRef: unknown = null;

  get size(): number {
    return this.ids.length;
  }

  reset(swarmId = ''): void {
    if (swarmId !== this.swarmId) this.collapsed = new Set();
    this.swarmId = swarmId;
    this.seq = -1;
    this.root = -1;
    this.ids = [];
    this.index = new Map();
    this.parent = [];
    this.children = [];
    this.depth = [];
    this.lifecycle = [];
    this.action = [];
    this.refs = [];
    this.nodesRef = null;
    this.version++;
    this.structure++;
  }

  /** Bring the index up to `state`. Returns true when anything visible changed. */
  sync(state: SwarmState | null): boolean {
    if (!state) {
      if (this.size || this.swarmId) {
        this.reset();
        return true;
      }
      return false;
    }
    const rootIdx = state.root_node_id ? this.index.get(state.root_node_id) : undefined;
    const mustRebuild =
      state.swarm_id !== this.swarmId ||
      state.seq < this.seq ||
      (state.root_node_id ?? null) !== (this.root >= 0 ? this.ids[this.root]! : null) ||
      (this.root >= 0 && rootIdx !== this.root);
    if (mustRebuild) return this.rebuild(state);
    if (state.nodes === this.nodesRef) {
      this.seq = state.seq;
      return false;
    }
    let changed = false;
    let count = 0;
    for (const id in state.nodes) {
      count++;
      const n = state.nodes[id]!;
      const i = this.index.get(id);
      if (i === undefined) {
        if (!this.append(n, state)) return this.rebuild(state);
        changed = true;
      } else if (this.refs[i] !== n) {
        this.refs[i] = n;
        const lc = LIFECYCLE_INDEX.get(n.lifecycle) ?? 0;
        const ac = ACTION_INDEX.get(n.action_type) ?? 5;
        if (lc !== this.lifecycle[i] || ac !== this.action[i]) {
          this.lifecycle[i] = lc;
          this.action[i] = ac;
          changed = true;
        }
      }
    }
    if (count !== this.size) return this.rebuild(state);
    this.nodesRef = state.nodes;
    this.seq = state.seq;
    if (changed) this.version++;
    return changed;
  }

  private rebuild(state: SwarmState): boolean {
    this.reset(state.swarm_id);
    this.rebuilds++;
    const rootId = state.root_node_id;
    const root = rootId ? state.nodes[rootId] : undefined;
    if (root) {
      const stack: Node[] = [root];
      while (stack.length) {
        const n = stack.pop()!;
        this.append(n, state);
        for (let k = n.children.length - 1; k >= 0; k--) {
          const c = state.nodes[n.children[k]!];
          if (c) stack.push(c);
        }
      }
    }
    this.nodesRef = state.nodes;
    this.seq = state.seq;
    return true;
  }

  /** Append `n` as its parent's next child. False when that is not where it belongs (then: rebuild). */
  private append(n: Node, state: SwarmState): boolean {
    let p = -1;
    if (n.parent_id !== null) {
      const pi = this.index.get(n.parent_id);
      if (pi === undefined) return false;
      p = pi;
      const parentNode = state.nodes[n.parent_id];
      if (!parentNode || parentNode.children[this.children[p]!.length] !== n.id) return false;
    } else if (this.root >= 0) {
      return false;
    }
    const i = this.ids.length;
    this.ids.push(n.id);
    this.index.set(n.id, i);
    this.parent.push(p);
    this.children.push([]);
    this.refs.push(n);
    this.lifecycle.push(LIFECYCLE_INDEX.get(n.lifecycle) ?? 0);
    this.action.push(ACTION_INDEX.get(n.action_type) ?? 5);
    if (p < 0) {
      this.root = i;
      this.depth.push(0);
    } else {
      this.depth.push(this.depth[p]! + 1);
      this.children[p]!.push(i);
    }
    this.version++;
    this.structure++;
    return true;
  }

  // ---- collapse -----------------------------------------------------------------------------------
  isCollapsed(i: number): boolean {
    this.ensure();
    return this.folded[i] === 1;
  }

  /** Replace the collapsed set (ids of nodes whose descendants are hidden). True when it changed. */
  setCollapsed(ids: Iterable<string>): boolean {
    const next = new Set(ids);
    if (next.size === this.collapsed.size && [...next].every((id) => this.collapsed.has(id))) return false;
    this.collapsed = next;
    this.collapseVersion++;
    this.version++;
    return true;
  }

  /** The nearest ancestor-or-self of i that is drawn (i itself unless it is inside a collapsed subtree). */
  visibleAncestor(i: number): number {
    this.ensure();
    let a = i;
    while (a >= 0 && this.hidden[a]) a = this.parent[a]!;
    return a;
  }

  /** The collapsed ancestors of node i (to expand them, so that i shows). */
  collapsedAncestors(i: number): string[] {
    const out: string[] = [];
    for (let a = this.parent[i] ?? -1; a >= 0; a = this.parent[a]!) if (this.collapsed.has(this.ids[a]!)) out.push(this.ids[a]!);
    return out;
  }

  /** Node i's children as drawn: none when it is collapsed (call ensure() first). */
  shownChildren(i: number): number[] {
    return this.folded[i] ? NONE : this.children[i]!;
  }

  // ---- geometry -----------------------------------------------------------------------------------
  /** Recompute the geometry if anything changed since the last time. Linear in the number of nodes. */
  ensure(): void {
    const n = this.size;
    if (this.x.length !== n) {
      this.x = new Float64Array(n);
      this.y = new Float64Array(n);
      this.bx0 = new Float64Array(n);
      this.bx1 = new Float64Array(n);
      this.by1 = new Float64Array(n);
      this.hidden = new Uint8Array(n);
      this.descendants = new Int32Array(n);
      this.worst = new Int8Array(n);
      this.folded = new Uint8Array(n);
      this.summaryOf = -1;
      this.geometryOf = -1;
    }
    if (this.summaryOf !== this.version) {
      this.summaryOf = this.version;
      this.summarize();
    }
    const shape = this.structure * 65_536 + this.collapseVersion;
    if (this.geometryOf === shape) return;
    this.geometryOf = shape;
    this.folded.fill(0);
    for (const id of this.collapsed) {
      const i = this.index.get(id);
      if (i !== undefined) this.folded[i] = 1;
    }
    // Bottom-up: each box's size, and its children's offsets in it.
    const { w, h, ax, relX, relY } = this.scratch(n);
    for (let i = n - 1; i >= 0; i--) {
      const kids = this.children[i]!;
      if (!kids.length || this.folded[i]) {
        w[i] = kids.length ? COLLAPSED_W : UNIT_X;
        h[i] = 0;
        ax[i] = w[i]! / 2;
        continue;
      }
      let sum = 0;
      let widest = 0;
      let tallest = 0;
      for (const c of kids) {
        sum += w[c]!;
        widest = Math.max(widest, w[c]!);
        tallest = Math.max(tallest, h[c]!);
      }
      // One row, or rows of at most `best` wide: whichever makes the block smallest in a view of
      // TARGET_ASPECT, i.e. the largest at "Fit".
      const aspect = TARGET_ASPECT;
      const oneRow = Math.max(sum / aspect, UNIT_Y + tallest);
      let best = Infinity;
      let bestSize = oneRow;
      if (kids.length > 2) {
        for (let j = 0; j < WRAP_CANDIDATES; j++) {
          const limit = widest * Math.pow(sum / widest, j / WRAP_CANDIDATES);
          const size = this.packRows(kids, w, h, limit, null, null);
          const cost = Math.max(size.w / aspect, size.h);
          if (cost < bestSize * 0.98) {
            bestSize = cost;
            best = limit;
          }
        }
      }
      if (best === Infinity) {
        // One row, the parent centred over its first and last child.
        let left = 0;
        for (const c of kids) {
          relX[c] = left;
          relY[c] = UNIT_Y;
          left += w[c]!;
        }
        const first = kids[0]!;
        const last = kids[kids.length - 1]!;
        w[i] = sum;
        h[i] = UNIT_Y + tallest;
        ax[i] = (relX[first]! + ax[first]! + relX[last]! + ax[last]!) / 2;
      } else {
        // Rows left-aligned right of the trunk that runs down from the parent.
        const size = this.packRows(kids, w, h, best, relX, relY);
        w[i] = size.w;
        h[i] = size.h;
        ax[i] = TRUNK_X;
      }
    }
    // Top-down: world positions, and which nodes a collapsed ancestor hides.
    const left = this.scratch(n).left;
    for (let i = 0; i < n; i++) {
      const p = this.parent[i]!;
      if (p < 0) {
        left[i] = 0;
        this.y[i] = 0;
        this.hidden[i] = 0;
      } else {
        left[i] = left[p]! + relX[i]!;
        this.y[i] = this.y[p]! + relY[i]!;
        this.hidden[i] = this.hidden[p] || this.folded[p] ? 1 : 0;
      }
      this.x[i] = left[i]! + ax[i]!;
      this.bx0[i] = left[i]!;
      this.bx1[i] = left[i]! + w[i]!;
      this.by1[i] = this.y[i]! + h[i]!;
    }
  }

  /** Descendant counts and the most urgent lifecycle below each node (bottom-up, linear). */
  private summarize(): void {
    for (let i = this.size - 1; i >= 0; i--) {
      let desc = 0;
      let worst = -1;
      let worstRank = -1;
      for (const c of this.children[i]!) {
        desc += 1 + this.descendants[c]!;
        const own = summaryRank(this.lifecycle[c]!);
        if (own > worstRank) {
          worst = this.lifecycle[c]!;
          worstRank = own;
        }
        const below = this.worst[c]!;
        if (below >= 0 && summaryRank(below) > worstRank) {
          worst = below;
          worstRank = summaryRank(below);
        }
      }
      this.descendants[i] = desc;
      this.worst[i] = worst;
    }
  }

  private scratchArrays: Record<'w' | 'h' | 'ax' | 'relX' | 'relY' | 'left', Float64Array> | null = null;

  /** Work arrays for the geometry passes, reused while the size stays. */
  private scratch(n: number): Record<'w' | 'h' | 'ax' | 'relX' | 'relY' | 'left', Float64Array> {
    if (!this.scratchArrays || this.scratchArrays.w.length !== n) {
      const make = () => new Float64Array(n);
      this.scratchArrays = { w: make(), h: make(), ax: make(), relX: make(), relY: make(), left: make() };
    }
    return this.scratchArrays;
  }

  /** Shelf-pack `kids` (in order) into rows at most `limit` wide; writes their offsets when given arrays. */
  private packRows(
    kids: number[],
    w: Float64Array,
    h: Float64Array,
    limit: number,
    relX: Float64Array | null,
    relY: Float64Array | null,
  ): { w: number; h: number } {
    let left = ROW_INDENT;
    let top = UNIT_Y;
    let rowH = 0;
    let right = 0;
    for (const c of kids) {
      if (left > ROW_INDENT && left + w[c]! > ROW_INDENT + limit) {
        top += rowH + UNIT_Y;
        left = ROW_INDENT;
        rowH = 0;
      }
      if (relX && relY) {
        relX[c] = left;
        relY[c] = top;
      }
      left += w[c]!;
      rowH = Math.max(rowH, h[c]!);
      right = Math.max(right, left);
    }
    return { w: right, h: top + rowH };
  }

  /** World position of node i's centre. */
  position(i: number): { x: number; y: number } {
    this.ensure();
    return { x: this.x[i]!, y: this.y[i]! };
  }

  /** World-space bounds of the whole drawn tree (glyphs and badges included). */
  bounds(): Bounds {
    if (this.root < 0) return { x0: 0, x1: 0, y0: 0, y1: 0 };
    this.ensure();
    const r = this.root;
    return { x0: this.bx0[r]!, x1: this.bx1[r]!, y0: -NODE_R, y1: this.by1[r]! + NODE_R + 14 };
  }

  /**
   * Visit the drawn nodes whose subtree box meets the viewport (world units): `onNode(i)` for each
   * node, `onChildren(i)` for each node whose children are visited (to draw their edges). `lod(i)` may
   * return true to stop at a subtree (drawn as one shape by the caller).
   */
  visit(v: Viewport, onNode: (i: number) => void, onChildren: (i: number) => void, lod?: (i: number) => boolean): void {
    if (this.root < 0) return;
    this.ensure();
    const pad = NODE_R + 16;
    const x0 = v.x0 - pad;
    const x1 = v.x1 + pad;
    const y0 = v.y0 - pad;
    const y1 = v.y1 + pad;
    const stack: number[] = [this.root];
    while (stack.length) {
      const i = stack.pop()!;
      if (lod?.(i)) continue;
      if (this.y[i]! >= y0 && this.y[i]! <= y1 && this.x[i]! >= x0 && this.x[i]! <= x1) onNode(i);
      const kids = this.shownChildren(i);
      if (!kids.length) continue;
      onChildren(i);
      for (let k = kids.length - 1; k >= 0; k--) {
        const c = kids[k]!;
        if (this.bx1[c]! < x0 || this.bx0[c]! > x1 || this.by1[c]! < y0 || this.y[c]! > y1) continue;
        stack.push(c);
      }
    }
  }

  /** The drawn node whose glyph contains world point (x, y) within `r`, or -1. */
  hitTest(x: number, y: number, r: number): number {
    if (this.root < 0) return -1;
    this.ensure();
    const stack: number[] = [this.root];
    while (stack.length) {
      const i = stack.pop()!;
      if (Math.abs(y - this.y[i]!) <= r && Math.abs(x - this.x[i]!) <= r) return i;
      for (const c of this.shownChildren(i)) {
        if (x < this.bx0[c]! - r || x > this.bx1[c]! + r || y < this.y[c]! - r || y > this.by1[c]! + r) continue;
        stack.push(c);
      }
    }
    return -1;
  }

  // ---- keyboard navigation --------------------------------------------------------------------------
  /** The node reached from i by a step: to the parent, the first shown child, or the previous/next sibling. */
  step(i: number, dir: 'parent' | 'child' | 'prev' | 'next'): number {
    if (i < 0 || i >= this.size) return this.root;
    this.ensure();
    const p = this.parent[i]!;
    if (dir === 'parent') return p >= 0 ? p : i;
    if (dir === 'child') return this.shownChildren(i)[0] ?? i;
    if (p < 0) return i;
    const sibs = this.children[p]!;
    const k = sibs.indexOf(i) + (dir === 'next' ? 1 : -1);
    return k >= 0 && k < sibs.length ? sibs[k]! : i;
  }
}
