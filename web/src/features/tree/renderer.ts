// Canvas 2D renderer for the tree: draws only what the viewport shows (via the layout's subtree boxes),
// batches every glyph of one colour into one path, and drops to plain squares, and to one block per
// subtree, when glyphs get too small to tell apart. Collapsed nodes get a ring and a "+N" badge.
import { ACTION_TYPES, LIFECYCLES } from '../../api/types';
import { childEdges, linkPath, TREE_EDGE, type EdgeLayer } from './edges';
import { COLOURS_BY_INDEX, summaryRank, symbolPath } from './glyphs';
import { fitScale, NODE_R, TreeLayout, type Viewport } from './layout';

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

const SELECT_COLOUR = '#111827';
const HIGHLIGHT_COLOUR = '#ea580c';
const MIN_SCALE = 0.002;
const MAX_SCALE = 4;
/** Trees from this size are kept as one bitmap while only the pan changes (see sceneFor). */
export const SCENE_MIN_NODES = 1000;
/** The largest such bitmap, in device pixels (10 MB). */
export const SCENE_MAX_PIXELS = 2_500_000;

/**
 * The whole tree drawn once at one scale (and selection, highlight, tree version): while only the pan
 * changes, a frame is one copy of it instead of drawing every glyph and edge again. With the whole tree on
 * screen (thousands of nodes drawn) that was most of a frame's cost, in the script and in the browser's
 * rasterization of the canvas.
 */
interface Scene {
  key: string;
  canvas: HTMLCanvasElement;
  /** Screen position (CSS px) of world origin in the bitmap. */
  ox: number;
  oy: number;
  drawn: number;
}

export class TreeRenderer {
  readonly layout: TreeLayout;
  camera: Camera = { scale: 1, ox: 0, oy: 0 };
  width = 0;
  height = 0;
  /** The box an overlay covers at the view's lower left (the open legend, with its margin), in CSS px: ``fit``
   * keeps the tree out of it when that costs little. */
  overlay = { width: 0, height: 0 };
  dpr = 1;
  selected = -1;
  highlighted = -1;
  stats: FrameStats = { ms: 0, drawn: 0, frames: 0 };
  onFrame: ((ms: number) => void) | null = null;
  /** Extra kinds of edges drawn over the tree edges (see edges.ts). */
  edgeLayers: EdgeLayer[] = [];
  /** Copy frames from a bitmap of the whole tree while only the pan changes (off: always draw; for checks). */
  useScene = true;
  private canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D | null;
  private frameRequested = false;
  private scene: Scene | null = null;
  /** The scene key of the last frame drawn directly: a bitmap is made only once a key repeats (not while zooming). */
  private lastKey = '';
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
    const { width: W, height: H } = this;
    const cx = (b.x0 + b.x1) / 2;
    // the root near the top, as trees are read, and centred across the view
    const place = (scale: number, left = 0) => ({ scale, ox: (left + W) / 2 - cx * scale, oy: pad - b.y0 * scale });
    const whole = place(clamp(fitScale(b, W, H, pad, maxScale), MIN_SCALE, MAX_SCALE));
    this.camera = whole;
    const o = this.overlay;
    const covered = (c: { scale: number; ox: number; oy: number }) =>
      o.width > 0 && c.ox + b.x0 * c.scale < o.width && c.oy + b.y1 * c.scale > H - o.height;
    if (covered(whole)) {
      // out of the overlay's way (the legend over the lower left): beside it or above it, whichever draws the
      // tree larger, unless that is much smaller than the whole view (a big tree: the legend can be closed)
      const beside = place(clamp(fitScale(b, W - o.width, H, pad, maxScale), MIN_SCALE, MAX_SCALE), o.width);
      const above = place(clamp(fitScale(b, W, H - o.height, pad, maxScale), MIN_SCALE, MAX_SCALE));
      const best = [beside, above].filter((c) => !covered(c)).sort((p, q) => q.scale - p.scale)[0];
      if (best && best.scale >= 0.8 * whole.scale) this.camera = best;
    }
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

  /** Pan (never zoom) so that node i is on screen, if it is not: a node in view stays where it is. */
  ensureVisible(i: number, margin = 24): boolean {
    if (i < 0 || i >= this.layout.size) return false;
    const p = this.screenOf(i);
    if (p.x >= margin && p.x <= this.width - margin && p.y >= margin && p.y <= this.height - margin) return false;
    const w = this.layout.position(i);
    const scale = this.camera.scale;
    this.camera = { scale, ox: this.width / 2 - w.x * scale, oy: this.height / 2 - w.y * scale };
    this.requestDraw();
    return true;
  }

  /** The diameter (CSS px) at which glyphs are drawn now. */
  glyphPx(): number {
    return 2 * NODE_R * this.camera.scale;
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
    this.layout.ensure();
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.width, this.height);
    const scene = this.sceneFor();
    let drawn: number;
    if (scene) {
      // Whole device pixels: the copy is exact, never resampled.
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(scene.canvas, Math.round((this.camera.ox - scene.ox) * this.dpr), Math.round((this.camera.oy - scene.oy) * this.dpr));
      drawn = scene.drawn;
    } else {
      drawn = this.paint(ctx, this.camera, this.width, this.height);
    }
    const ms = performance.now() - t0;
    this.stats = { ms, drawn, frames: this.stats.frames + 1 };
    this.onFrame?.(ms);
  }

  /** Whether frames are copies of one bitmap of the whole tree now (for tests and the benchmark). */
  get cached(): boolean {
    return this.scene !== null && this.scene.key === this.sceneKey();
  }

  private sceneKey(): string {
    const L = this.layout;
    return `${L.swarmId}|${L.version}|${L.size}|${this.camera.scale}|${this.dpr}|${this.selected}|${this.highlighted}|${this.edgeLayers.length}`;
  }

  /**
   * The bitmap of the whole tree for this frame, or null to draw directly: for trees of SCENE_MIN_NODES or
   * more whose drawing at this scale fits in SCENE_MAX_PIXELS, once the same key is drawn a second time in a
   * row (a pan, not a zoom, whose every frame has a new scale).
   */
  private sceneFor(): Scene | null {
    const L = this.layout;
    if (!this.useScene || L.size < SCENE_MIN_NODES || typeof document === 'undefined') {
      this.scene = null;
      return null;
    }
    const key = this.sceneKey();
    if (this.scene?.key === key) return this.scene;
    this.scene = null;
    const repeated = key === this.lastKey;
    this.lastKey = key;
    if (!repeated) return null;
    const scale = this.camera.scale;
    const b = L.bounds();
    // Room around the nodes for rings, "+N" badges and the curves of dependency links.
    const margin = NODE_R * scale + 40;
    const width = (b.x1 - b.x0) * scale + 2 * margin;
    const height = (b.y1 - b.y0) * scale + 2 * margin;
    const pw = Math.ceil(width * this.dpr);
    const ph = Math.ceil(height * this.dpr);
    if (pw * ph > SCENE_MAX_PIXELS) return null;
    const canvas = document.createElement('canvas');
    canvas.width = pw;
    canvas.height = ph;
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) return null;
    // The bitmap's origin sits a whole number of device pixels from the view's, so the copy puts every glyph
    // exactly where drawing it would (and pans by whole pixels keep it so).
    const snap = (view: number, at: number) => view - Math.round((view - at) * this.dpr) / this.dpr;
    const cam = { scale, ox: snap(this.camera.ox, margin - b.x0 * scale), oy: snap(this.camera.oy, margin - b.y0 * scale) };
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, pw, ph); // every device pixel: an opaque canvas starts black
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const drawn = this.paint(ctx, cam, width, height);
    this.scene = { key, canvas, ox: cam.ox, oy: cam.oy, drawn };
    return this.scene;
  }

  /** Draw what the view (camera, size in CSS px) shows of the tree onto ctx; returns the shapes drawn. */
  private paint(ctx: CanvasRenderingContext2D, cam: Camera, width: number, height: number): number {
    const { scale, ox, oy } = cam;
    const L = this.layout;
    const r = NODE_R * scale;
    const tiny = r < 2.5;
    // A subtree smaller than this both ways is drawn as one block (its glyphs could not be told apart).
    const lodBelow = (tiny ? 10 : 3) / scale;
    for (let k = 0; k < LIFECYCLES.length; k++) {
      this.bx[k]!.length = 0;
      this.by[k]!.length = 0;
      this.ba[k]!.length = 0;
    }
    const blocks: number[] = [];
    const folded: number[] = [];
    let drawn = 0;

    ctx.beginPath();
    L.visit(
      { x0: -ox / scale, y0: -oy / scale, x1: (width - ox) / scale, y1: (height - oy) / scale },
      (i) => {
        const lc = L.lifecycle[i]!;
        this.bx[lc]!.push(L.x[i]! * scale + ox);
        this.by[lc]!.push(L.y[i]! * scale + oy);
        this.ba[lc]!.push(L.action[i]!);
        if (L.children[i]!.length && L.isCollapsed(i)) folded.push(i);
        drawn++;
      },
      (i) => childEdges(ctx, L, i, scale, ox, oy, width),
      (i) => {
        if (L.children[i]!.length && L.bx1[i]! - L.bx0[i]! < lodBelow && L.by1[i]! - L.y[i]! < lodBelow) {
          blocks.push(i);
          return true;
        }
        return false;
      },
    );
    ctx.strokeStyle = TREE_EDGE.colour;
    ctx.lineWidth = scale > 0.5 ? TREE_EDGE.width : 1;
    ctx.stroke();

    // Other kinds of edges (dependencies, ...), between the drawn ends.
    for (const layer of this.edgeLayers) {
      ctx.beginPath();
      for (const [from, to] of layer.links(L)) {
        const a = L.visibleAncestor(from);
        const b = L.visibleAncestor(to);
        if (a < 0 || b < 0 || a === b) continue;
        linkPath(ctx, L.x[a]! * scale + ox, L.y[a]! * scale + oy, L.x[b]! * scale + ox, L.y[b]! * scale + oy);
      }
      ctx.setLineDash(layer.style.dash);
      ctx.strokeStyle = layer.style.colour;
      ctx.lineWidth = layer.style.width;
      ctx.stroke();
      ctx.setLineDash([]);
    }

    // Subtrees too small to tell apart: one block each, in the most urgent colour inside.
    for (const i of blocks) {
      const lc = summaryOf(L, i);
      ctx.fillStyle = COLOURS_BY_INDEX[lc]!;
      const x0 = L.bx0[i]! * scale + ox;
      const y0 = L.y[i]! * scale + oy;
      ctx.fillRect(x0, y0 - 1, Math.max(1.5, (L.bx1[i]! - L.bx0[i]!) * scale), Math.max(1.5, (L.by1[i]! - L.y[i]!) * scale + 1));
      drawn++;
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

    // Collapsed nodes: a ring in the subtree's summary colour and a "+N" badge with the hidden count.
    for (const i of folded) {
      const x = L.x[i]! * scale + ox;
      const y = L.y[i]! * scale + oy;
      const colour = COLOURS_BY_INDEX[Math.max(0, L.worst[i]!)]!;
      ctx.beginPath();
      ctx.arc(x, y, Math.max(r, 2) + Math.max(2, 3 * scale), 0, Math.PI * 2);
      ctx.strokeStyle = colour;
      ctx.lineWidth = Math.max(1.5, 2.5 * scale);
      ctx.stroke();
      if (r >= 4) {
        const text = `+${L.descendants[i]!.toLocaleString('en')}`;
        const font = Math.max(9, Math.min(13, 11 * scale));
        ctx.font = `600 ${font}px system-ui, sans-serif`;
        const tw = ctx.measureText(text).width + 8;
        const top = y + r + 5;
        ctx.fillStyle = colour;
        ctx.fillRect(x - tw / 2, top, tw, font + 4);
        ctx.fillStyle = '#ffffff';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'top';
        ctx.fillText(text, x, top + 2);
      }
    }

    // Selection and highlight rings.
    const ring = (i: number, colour: string, width: number, extra: number) => {
      if (i < 0 || i >= L.size || L.hidden[i]) return;
      ctx.beginPath();
      ctx.arc(L.x[i]! * scale + ox, L.y[i]! * scale + oy, Math.max(r, 3) + extra, 0, Math.PI * 2);
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.stroke();
    };
    ring(this.highlighted, HIGHLIGHT_COLOUR, 3, 7);
    ring(this.selected, SELECT_COLOUR, 2, 4);
    return drawn;
  }
}

/** The colour index for a subtree drawn as one block: the most urgent lifecycle of its root and descendants. */
function summaryOf(L: TreeLayout, i: number): number {
  const own = L.lifecycle[i]!;
  const worst = L.worst[i]!;
  return worst >= 0 && summaryRank(worst) > summaryRank(own) ? worst : own;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export const SYMBOL_COUNT = ACTION_TYPES.length;
