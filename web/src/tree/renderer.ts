// Canvas 2D renderer for the tree: draws only what the viewport shows (via the layout's span hierarchy),
// batches every glyph of one colour into one path, and drops to plain squares and collapsed branches when
// glyphs get too small to tell apart.
import { ACTION_TYPES, LIFECYCLES } from '../api/types';
import { COLOURS_BY_INDEX, symbolPath } from './glyphs';
import { NODE_R, TreeLayout, UNIT_X, UNIT_Y, type Viewport } from './layout';

export interface Camera {
  scale: number;
  /** Screen position (CSS px) of world origin. */
  ox: number;
  oy: number;
}

export interface FrameStats {
  ms: number;
  drawn: number;
  frames: number;
}

const EDGE_COLOUR = '#94a3b8';
const SELECT_COLOUR = '#111827';
const HIGHLIGHT_COLOUR = '#ea580c';
const MIN_SCALE = 0.002;
const MAX_SCALE = 4;

export class TreeRenderer {
  readonly layout: TreeLayout;
  camera: Camera = { scale: 1, ox: 0, oy: 0 };
  width = 0;
  height = 0;
  dpr = 1;
  selected = -1;
  highlighted = -1;
  stats: FrameStats = { ms: 0, drawn: 0, frames: 0 };
  onFrame: ((ms: number) => void) | null = null;
  private canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D | null;
  private frameRequested = false;
  // Per-frame buckets, reused: node index and screen position per lifecycle colour.
  private bx: number[][] = LIFECYCLES.map(() => []);
  private by: number[][] = LIFECYCLES.map(() => []);
  private ba: number[][] = LIFECYCLES.map(() => []);

  constructor(canvas: HTMLCanvasElement, layout = new TreeLayout()) {
    this.canvas = canvas;
    this.layout = layout;
    this.ctx = canvas.getContext('2d', { alpha: false });
  }

  resize(width: number, height: number, dpr: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.dpr = dpr;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.requestDraw();
  }

  // ---- camera -------------------------------------------------------------------------------
  toWorld(sx: number, sy: number): { x: number; y: number } {
    const c = this.camera;
    return { x: (sx - c.ox) / c.scale, y: (sy - c.oy) / c.scale };
  }

  toScreen(wx: number, wy: number): { x: number; y: number } {
    const c = this.camera;
    return { x: wx * c.scale + c.ox, y: wy * c.scale + c.oy };
  }

  viewport(): Viewport {
    const a = this.toWorld(0, 0);
    const b = this.toWorld(this.width, this.height);
    return { x0: a.x, y0: a.y, x1: b.x, y1: b.y };
  }

  fit(maxScale = 1.5): void {
    const b = this.layout.bounds();
    const pad = 32;
    const bw = Math.max(b.x1 - b.x0, UNIT_X);
    const bh = Math.max(b.y1 - b.y0, UNIT_Y / 2);
    const scale = clamp(Math.min((this.width - 2 * pad) / bw, (this.height - 2 * pad) / bh, maxScale), MIN_SCALE, MAX_SCALE);
    this.camera = {
      scale,
      ox: this.width / 2 - ((b.x0 + b.x1) / 2) * scale,
      oy: Math.max(pad + NODE_R * scale, this.height / 2 - ((b.y0 + b.y1) / 2) * scale),
    };
    this.requestDraw();
  }

  pan(dx: number, dy: number): void {
    this.camera.ox += dx;
    this.camera.oy += dy;
    this.requestDraw();
  }

  zoomAt(sx: number, sy: number, factor: number): void {
    const c = this.camera;
    const scale = clamp(c.scale * factor, MIN_SCALE, MAX_SCALE);
    const k = scale / c.scale;
    this.camera = { scale, ox: sx - (sx - c.ox) * k, oy: sy - (sy - c.oy) * k };
    this.requestDraw();
  }

  centerOn(i: number, minScale = 0.8): void {
    if (i < 0) return;
    const p = this.layout.position(i);
    const scale = Math.max(this.camera.scale, minScale);
    this.camera = { scale, ox: this.width / 2 - p.x * scale, oy: this.height / 2 - p.y * scale };
    this.requestDraw();
  }

  /** Screen position (CSS px, relative to the canvas) of node i. */
  screenOf(i: number): { x: number; y: number } {
    const p = this.layout.position(i);
    return this.toScreen(p.x, p.y);
  }

  hitTest(sx: number, sy: number): number {
    const w = this.toWorld(sx, sy);
    const slack = NODE_R + 4 / this.camera.scale;
    return this.layout.hitTest(w.x, w.y, slack);
  }

  // ---- drawing ------------------------------------------------------------------------------
  requestDraw(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  draw(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const t0 = performance.now();
    const { scale, ox, oy } = this.camera;
    const L = this.layout;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.width, this.height);

    const r = NODE_R * scale;
    const tiny = r < 2.5;
    const collapseBelow = 2 / (UNIT_X * scale); // a subtree narrower than 2px is drawn as one stroke
    for (let k = 0; k < LIFECYCLES.length; k++) {
      this.bx[k]!.length = 0;
      this.by[k]!.length = 0;
      this.ba[k]!.length = 0;
    }
    const collapsed: number[] = [];
    let drawn = 0;

    ctx.beginPath();
    L.visit(
      this.viewport(),
      (i, x, y) => {
        const lc = L.lifecycle[i]!;
        this.bx[lc]!.push(x * scale + ox);
        this.by[lc]!.push(y * scale + oy);
        this.ba[lc]!.push(L.action[i]!);
        drawn++;
      },
      (i, x, y, first, last, left) => {
        const kids = L.children[i]!;
        const px = x * scale + ox;
        const py = y * scale + oy;
        const mid = py + (UNIT_Y / 2) * scale;
        const childY = py + UNIT_Y * scale;
        const cx = (c: number) => (left + L.relX[c]! + L.w[c]! / 2) * UNIT_X * scale + ox;
        ctx.moveTo(px, py + r);
        ctx.lineTo(px, mid);
        const a = cx(kids[first]!);
        const b = cx(kids[last]!);
        if (b > a) {
          ctx.moveTo(Math.max(a, -10), mid);
          ctx.lineTo(Math.min(b, this.width + 10), mid);
        }
        if (last - first + 1 > this.width) return; // denser than pixels: the bar says enough
        for (let k = first; k <= last; k++) {
          const sx = cx(kids[k]!);
          ctx.moveTo(sx, mid);
          ctx.lineTo(sx, childY - r);
        }
      },
      (i) => {
        if (L.w[i]! < collapseBelow) {
          collapsed.push(i);
          return true;
        }
        return false;
      },
    );
    ctx.strokeStyle = EDGE_COLOUR;
    ctx.lineWidth = scale > 0.5 ? 1.25 : 1;
    ctx.stroke();

    // Collapsed branches: one vertical stroke per subtree, in its root's colour.
    if (collapsed.length) {
      ctx.lineWidth = Math.max(1, Math.min(3, L.w[collapsed[0]!]! * UNIT_X * scale));
      for (let k = 0; k < LIFECYCLES.length; k++) {
        ctx.beginPath();
        let any = false;
        for (const i of collapsed) {
          if (L.lifecycle[i] !== k) continue;
          const left = L.leftOf(i);
          const x = (left + L.w[i]! / 2) * UNIT_X * scale + ox;
          const y = L.depth[i]! * UNIT_Y * scale + oy;
          ctx.moveTo(x, y);
          ctx.lineTo(x, y + L.height[i]! * UNIT_Y * scale);
          any = true;
        }
        if (any) {
          ctx.strokeStyle = COLOURS_BY_INDEX[k]!;
          ctx.stroke();
        }
      }
    }

    // Glyphs, one fill per lifecycle colour.
    for (let k = 0; k < LIFECYCLES.length; k++) {
      const xs = this.bx[k]!;
      if (!xs.length) continue;
      const ys = this.by[k]!;
      const as = this.ba[k]!;
      ctx.fillStyle = COLOURS_BY_INDEX[k]!;
      if (tiny) {
        const s = Math.max(1.5, r * 2);
        for (let j = 0; j < xs.length; j++) ctx.fillRect(xs[j]! - s / 2, ys[j]! - s / 2, s, s);
      } else {
        ctx.beginPath();
        for (let j = 0; j < xs.length; j++) symbolPath(ctx, as[j]!, xs[j]!, ys[j]!, r);
        ctx.fill();
        if (r >= 5) {
          ctx.lineWidth = 1;
          ctx.strokeStyle = 'rgba(15,23,42,0.55)';
          ctx.stroke();
        }
      }
    }

    // Selection and highlight rings.
    const ring = (i: number, colour: string, width: number, extra: number) => {
      if (i < 0 || i >= L.size) return;
      const p = this.screenOf(i);
      ctx.beginPath();
      ctx.arc(p.x, p.y, Math.max(r, 3) + extra, 0, Math.PI * 2);
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.stroke();
    };
    ring(this.highlighted, HIGHLIGHT_COLOUR, 3, 7);
    ring(this.selected, SELECT_COLOUR, 2, 4);

    const ms = performance.now() - t0;
    this.stats = { ms, drawn, frames: this.stats.frames + 1 };
    this.onFrame?.(ms);
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export const SYMBOL_COUNT = ACTION_TYPES.length;
