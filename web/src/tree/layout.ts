// Incremental top-down tree layout with a bounding-volume hierarchy for culling and hit-testing.
//
// Each node's subtree occupies a horizontal span of w leaf-slots (w = 1 for a leaf, else the sum of its
// children's). A node stores only its span's offset from its parent's (relX), its depth, and its subtree's
// height. Appending a child touches the ancestors and the right-hand siblings along that path, never the
// whole tree, and node positions are computed on the fly while walking down from the root. The spans form
// a spatial index: drawing visits only subtrees whose box meets the viewport (children found by binary
// search), and a hit test walks a single root-to-node path.
import type { Node, SwarmState } from '../api/types';
import { ACTION_INDEX, LIFECYCLE_INDEX } from './glyphs';

export const UNIT_X = 28;
export const UNIT_Y = 72;
export const NODE_R = 9;

export interface Viewport {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export class TreeLayout {
  swarmId = '';
  seq = -1;
  root = -1;
  ids: string[] = [];
  index = new Map<string, number>();
  parent: number[] = [];
  childPos: number[] = [];
  children: number[][] = [];
  depth: number[] = [];
  w: number[] = [];
  relX: number[] = [];
  height: number[] = [];
  lifecycle: number[] = [];
  action: number[] = [];
  refs: Node[] = [];
  /** Bumps on any change that needs a redraw; `structure` only when positions moved. */
  version = 0;
  structure = 0;
  rebuilds = 0;
  private nodesRef: unknown = null;

  get size(): number {
    return this.ids.length;
  }

  reset(swarmId = ''): void {
    this.swarmId = swarmId;
    this.seq = -1;
    this.root = -1;
    this.ids = [];
    this.index = new Map();
    this.parent = [];
    this.childPos = [];
    this.children = [];
    this.depth = [];
    this.w = [];
    this.relX = [];
    this.height = [];
    this.lifecycle = [];
    this.action = [];
    this.refs = [];
    this.nodesRef = null;
    this.version++;
    this.structure++;
  }

  /** Bring the layout up to `state`. Returns true when anything visible changed. */
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
    this.w.push(1);
    this.height.push(0);
    this.refs.push(n);
    this.lifecycle.push(LIFECYCLE_INDEX.get(n.lifecycle) ?? 0);
    this.action.push(ACTION_INDEX.get(n.action_type) ?? 5);
    if (p < 0) {
      this.root = i;
      this.depth.push(0);
      this.relX.push(0);
      this.childPos.push(0);
    } else {
      const kids = this.children[p]!;
      this.depth.push(this.depth[p]! + 1);
      this.childPos.push(kids.length);
      this.relX.push(kids.length ? this.w[p]! : 0);
      kids.push(i);
      if (kids.length > 1) this.widen(p, 1);
      // heights
      let a = p;
      let h = 1;
      while (a >= 0 && this.height[a]! < h) {
        this.height[a] = h;
        a = this.parent[a]!;
        h++;
      }
    }
    this.version++;
    this.structure++;
    return true;
  }

  /** Node a's subtree grew by delta slots: grow its ancestors and shift the siblings to its right. */
  private widen(a: number, delta: number): void {
    this.w[a] = this.w[a]! + delta;
    while (this.parent[a]! >= 0) {
      const q = this.parent[a]!;
      const sibs = this.children[q]!;
      for (let k = this.childPos[a]! + 1; k < sibs.length; k++) this.relX[sibs[k]!] = this.relX[sibs[k]!]! + delta;
      this.w[q] = this.w[q]! + delta;
      a = q;
    }
  }

  /** Left edge (in slots) of node i's span: the sum of relX up the path. */
  leftOf(i: number): number {
    let left = 0;
    for (let a = i; a >= 0; a = this.parent[a]!) left += this.relX[a]!;
    return left;
  }

  /** World position of node i's centre. */
  position(i: number): { x: number; y: number } {
    return { x: (this.leftOf(i) + this.w[i]! / 2) * UNIT_X, y: this.depth[i]! * UNIT_Y };
  }

  /** World-space bounds of the whole tree. */
  bounds(): { x0: number; x1: number; y0: number; y1: number } {
    if (this.root < 0) return { x0: 0, x1: 0, y0: 0, y1: 0 };
    return {
      x0: 0,
      x1: this.w[this.root]! * UNIT_X,
      y0: -NODE_R,
      y1: this.height[this.root]! * UNIT_Y + NODE_R,
    };
  }

  /** The first child of `kids` whose span ends at or after x (slots), by binary search. */
  private firstChildEndingAfter(kids: number[], left: number, x: number): number {
    let lo = 0;
    let hi = kids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = kids[mid]!;
      if (left + this.relX[c]! + this.w[c]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The last child of `kids` whose span starts at or before x (slots), by binary search; -1 if none. */
  private lastChildStartingBefore(kids: number[], left: number, x: number): number {
    let lo = 0;
    let hi = kids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (left + this.relX[kids[mid]!]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /**
   * Visit the nodes whose subtree box meets the viewport (world units). `onNode(i, x, y)` gets each
   * node's centre; `onChildren(i, x, y, first, last)` the range of its children that is visited.
   * `collapse(i)` may return true to skip a subtree's descendants (level of detail).
   */
  visit(
    v: Viewport,
    onNode: (i: number, x: number, y: number) => void,
    onChildren: (i: number, x: number, y: number, first: number, last: number, left: number) => void,
    collapse?: (i: number) => boolean,
  ): void {
    if (this.root < 0) return;
    const sx0 = v.x0 / UNIT_X;
    const sx1 = v.x1 / UNIT_X;
    const stackI: number[] = [this.root];
    const stackL: number[] = [0];
    while (stackI.length) {
      const i = stackI.pop()!;
      const left = stackL.pop()!;
      const d = this.depth[i]!;
      const y = d * UNIT_Y;
      if ((d + this.height[i]!) * UNIT_Y + NODE_R < v.y0 || y - NODE_R > v.y1) continue;
      if (left > sx1 || left + this.w[i]! < sx0) continue;
      const x = (left + this.w[i]! / 2) * UNIT_X;
      if (y + NODE_R >= v.y0) onNode(i, x, y);
      const kids = this.children[i]!;
      if (!kids.length || y + UNIT_Y / 2 > v.y1) continue;
      if (collapse?.(i)) continue;
      const first = this.firstChildEndingAfter(kids, left, sx0);
      const last = this.lastChildStartingBefore(kids, left, sx1);
      if (first > last) continue;
      onChildren(i, x, y, first, last, left);
      for (let k = last; k >= first; k--) {
        const c = kids[k]!;
        stackI.push(c);
        stackL.push(left + this.relX[c]!);
      }
    }
  }

  /** The node whose glyph contains world point (x, y) within `r`, or -1: one root-to-node walk. */
  hitTest(x: number, y: number, r: number): number {
    if (this.root < 0) return -1;
    let i = this.root;
    let left = 0;
    const sx = x / UNIT_X;
    for (;;) {
      const cy = this.depth[i]! * UNIT_Y;
      const cx = (left + this.w[i]! / 2) * UNIT_X;
      if (Math.abs(y - cy) <= r && Math.abs(x - cx) <= r) return i;
      const kids = this.children[i]!;
      if (!kids.length || y < cy + UNIT_Y - r) return -1;
      const k = this.lastChildStartingBefore(kids, left, sx);
      if (k < 0) return -1;
      const c = kids[k]!;
      if (left + this.relX[c]! + this.w[c]! < sx) return -1;
      left += this.relX[c]!;
      i = c;
    }
  }
}
