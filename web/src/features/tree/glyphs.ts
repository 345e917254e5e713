// One glyph per node: colour for its lifecycle, symbol for its action type. The legend draws the same
// shapes (as SVG paths built by the same functions).
import { ACTION_TYPES, LIFECYCLES, type ActionType, type Lifecycle } from '../../api/types';

export const LIFECYCLE_COLOURS: Record<Lifecycle, string> = {
  spawned: '#94a3b8',
  waiting_deps: '#a16207',
  running: '#2563eb',
  waiting_llm: '#7c3aed',
  waiting_user: '#f59e0b',
  waiting_children: '#0d9488',
  done: '#16a34a',
  failed: '#dc2626',
  cancelled: '#57534e',
};

export const LIFECYCLE_LABELS: Record<Lifecycle, string> = {
  spawned: 'Spawned',
  waiting_deps: 'Waiting on the subtasks it needs',
  running: 'Running',
  waiting_llm: 'Waiting on the model',
  waiting_user: 'Waiting on you',
  waiting_children: 'Waiting on children',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const ACTION_LABELS: Record<ActionType, string> = {
  plan: 'Plan',
  route: 'Route',
  ask: 'Ask you',
  do: 'Do',
  review: 'Review',
  custom: 'Custom',
};

export const LIFECYCLE_INDEX = new Map<string, number>(LIFECYCLES.map((l, i) => [l, i]));
export const ACTION_INDEX = new Map<string, number>(ACTION_TYPES.map((a, i) => [a, i]));
export const COLOURS_BY_INDEX: string[] = LIFECYCLES.map((l) => LIFECYCLE_COLOURS[l]);

/**
 * How urgently a lifecycle asks for attention, for the summary colour of a collapsed subtree (the most
 * urgent lifecycle inside it wins). A lifecycle not named here ranks in the middle.
 */
const URGENCY: readonly string[] = ['done', 'cancelled', 'spawned', 'waiting_deps', 'waiting_children', 'waiting_llm', 'running', 'waiting_user', 'failed'];
const RANK_BY_INDEX: number[] = LIFECYCLES.map((l) => {
  const k = URGENCY.indexOf(l);
  return k >= 0 ? k : 3.5;
});

export function summaryRank(lifecycleIndex: number): number {
  return RANK_BY_INDEX[lifecycleIndex] ?? 3.5;
}

/** Anything with moveTo/lineTo/arc/closePath: a CanvasRenderingContext2D, a Path2D, or the SVG builder. */
export interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, r: number, a0: number, a1: number): void;
  closePath(): void;
}

function polygon(p: PathSink, x: number, y: number, r: number, n: number, rot: number): void {
  for (let k = 0; k < n; k++) {
    const a = rot + (k * 2 * Math.PI) / n;
    const px = x + r * Math.cos(a);
    const py = y + r * Math.sin(a);
    if (k === 0) p.moveTo(px, py);
    else p.lineTo(px, py);
  }
  p.closePath();
}

/** Adds the symbol of action type `action` (index into ACTION_TYPES), centred at x,y with radius r. */
export function symbolPath(p: PathSink, action: number, x: number, y: number, r: number): void {
  switch (ACTION_TYPES[action]) {
    case 'plan': // triangle
      polygon(p, x, y + r * 0.12, r * 1.12, 3, -Math.PI / 2);
      break;
    case 'route': // diamond
      polygon(p, x, y, r * 1.1, 4, -Math.PI / 2);
      break;
    case 'ask': // circle
      p.moveTo(x + r, y);
      p.arc(x, y, r, 0, Math.PI * 2);
      p.closePath();
      break;
    case 'do': // square
      polygon(p, x, y, r * 1.18, 4, Math.PI / 4);
      break;
    case 'review': // hexagon
      polygon(p, x, y, r * 1.05, 6, 0);
      break;
    default: {
      // star
      for (let k = 0; k < 10; k++) {
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        const rr = k % 2 === 0 ? r * 1.2 : r * 0.5;
        const px = x + rr * Math.cos(a);
        const py = y + rr * Math.sin(a);
        if (k === 0) p.moveTo(px, py);
        else p.lineTo(px, py);
      }
      p.closePath();
    }
  }
}

/** The symbol as an SVG path `d` attribute (for the legend). */
export function symbolSvgPath(action: number, x: number, y: number, r: number): string {
  const parts: string[] = [];
  const f = (n: number) => n.toFixed(2);
  symbolPath(
    {
      moveTo: (px, py) => parts.push(`M${f(px)} ${f(py)}`),
      lineTo: (px, py) => parts.push(`L${f(px)} ${f(py)}`),
      arc: (cx, cy, rr) => parts.push(`M${f(cx - rr)} ${f(cy)}A${f(rr)} ${f(rr)} 0 1 0 ${f(cx + rr)} ${f(cy)}A${f(rr)} ${f(rr)} 0 1 0 ${f(cx - rr)} ${f(cy)}`),
      closePath: () => parts.push('Z'),
    },
    action,
    x,
    y,
    r,
  );
  return parts.join('');
}
