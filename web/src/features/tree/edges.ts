// Edges of the tree drawing. The parent -> children edges come from the layout's rows; any other kind of
// edge (for example dependencies between siblings) is an EdgeLayer: a style and the pairs it links. The
// renderer draws each layer after the tree edges and before the glyphs, between the drawn nodes (an end
// inside a collapsed subtree attaches to the collapsed node that stands for it).
import { NODE_R, UNIT_Y, type TreeLayout } from './layout';

export interface EdgeStyle {
  colour: string;
  /** Canvas line dash in CSS px ([] for solid). */
  dash: number[];
  width: number;
}

export interface EdgeLayer {
  /** A stable name, e.g. 'dependency'. */
  kind: string;
  style: EdgeStyle;
  /** The node index pairs [from, to] to link, for the layout as it is now. */
  links(layout: TreeLayout): Iterable<readonly [number, number]>;
}

export const TREE_EDGE: EdgeStyle = { colour: '#94a3b8', dash: [], width: 1.25 };

interface Pen {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
}

/**
 * The edges from node i to its children, as polylines in screen space: a trunk down from the parent,
 * a bar over each row of children, and a drop to each child. In a one-row layout the trunk meets the
 * bar in the middle; in a wrapped layout it runs down the rows' left side.
 */
export function childEdges(pen: Pen, L: TreeLayout, i: number, scale: number, ox: number, oy: number, viewWidth: number): void {
  const kids = L.shownChildren(i);
  if (!kids.length) return;
  const r = NODE_R * scale;
  const px = L.x[i]! * scale + ox;
  const py = L.y[i]! * scale + oy;
  const half = (UNIT_Y / 2) * scale;
  let k = 0;
  let lastBar = py;
  while (k < kids.length) {
    const rowY = L.y[kids[k]!]!;
    let end = k;
    while (end + 1 < kids.length && L.y[kids[end + 1]!] === rowY) end++;
    const sy = rowY * scale + oy;
    const bar = sy - half;
    const a = Math.min(px, L.x[kids[k]!]! * scale + ox);
    const b = Math.max(px, L.x[kids[end]!]! * scale + ox);
    if (b > a) {
      pen.moveTo(Math.max(a, -10), bar);
      pen.lineTo(Math.min(b, viewWidth + 10), bar);
    }
    // Drops, unless the row is denser than the pixels (then the bar says enough).
    if ((b - a) / Math.max(1, end - k) >= 1.5 || end === k) {
      for (let j = k; j <= end; j++) {
        const cx = L.x[kids[j]!]! * scale + ox;
        if (cx < -10 || cx > viewWidth + 10) continue;
        pen.moveTo(cx, bar);
        pen.lineTo(cx, sy - r);
      }
    }
    lastBar = bar;
    k = end + 1;
  }
  pen.moveTo(px, py + r);
  pen.lineTo(px, lastBar);
}

/** A link between two drawn nodes: a gentle curve, so that it stands apart from the straight tree edges. */
export function linkPath(ctx: CanvasRenderingContext2D, ax: number, ay: number, bx: number, by: number): void {
  const mx = (ax + bx) / 2;
  const my = (ay + by) / 2 - Math.min(40, Math.abs(bx - ax) / 4 + 8);
  ctx.moveTo(ax, ay);
  ctx.quadraticCurveTo(mx, my, bx, by);
}
