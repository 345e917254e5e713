import { useEffect, useId, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { SwarmState } from '../../api/types';
import { plural } from '../../lib/format';
import { ACTION_LABELS, LIFECYCLE_LABELS } from './glyphs';
import type { TreeLayout } from './layout';
import { dependencyLayer } from './dependencies';
import { TreeRenderer } from './renderer';

export interface TreeCanvasHandle {
  fit(): void;
  zoom(factor: number): void;
  centerOn(nodeId: string): void;
  /** Pan to the node only if it is off screen. */
  reveal(nodeId: string): void;
  renderer(): TreeRenderer | null;
}

export interface TreeDebug {
  nodeCount(): number;
  nodeIds(): string[];
  /** Page (client) coordinates of a node's glyph centre, or null if unknown or off-screen. */
  nodePosition(id: string): { x: number; y: number } | null;
  visibleCount(): number;
  /** Glyph diameter in CSS px at the current zoom. */
  glyphPx(): number;
  camera(): { scale: number; ox: number; oy: number };
  isHidden(id: string): boolean;
  lastFrameMs(): number;
  frames(): number;
  /** [prerequisite id, dependent id] of each dependency edge the tree draws. */
  dependencyEdges(): Array<[string, string]>;
  renderer: TreeRenderer;
}

declare global {
  interface Window {
    __treeDebug?: TreeDebug;
  }
}

interface Props {
  state: SwarmState | null;
  selectedId: string | null;
  highlightId: string | null;
  onSelect(nodeId: string | null): void;
  /** Ids of collapsed nodes, and how to toggle one (Enter on the keyboard, a double click). */
  collapsed?: readonly string[];
  onToggleCollapse?(nodeId: string): void;
  label: string;
  handleRef?: Ref<TreeCanvasHandle>;
  onFrame?: (ms: number) => void;
  /** The box an overlay covers at the canvas's lower left (the open legend), in CSS px: Fit keeps out of it. */
  overlay?: { width: number; height: number };
}

/** One line about node i, for the tooltip and for screen readers. */
export function describeNode(L: TreeLayout, i: number): { title: string; detail: string } {
  const n = L.refs[i]!;
  const kids = L.children[i]!.length;
  const parts = [LIFECYCLE_LABELS[n.lifecycle] ?? n.lifecycle, ACTION_LABELS[n.action_type] ?? n.action_type, `depth ${n.depth}`];
  if (kids) parts.push(plural(kids, 'child', 'children'));
  if (kids && L.isCollapsed(i)) parts.push(`collapsed, ${plural(L.descendants[i]!, 'node')} hidden`);
  return { title: n.title, detail: parts.join(' · ') };
}

interface Tip {
  x: number;
  y: number;
  title: string;
  detail: string;
}

/**
 * The tree, drawn on a canvas. Drag to pan, wheel or pinch to zoom, click a glyph to select it, hover
 * for a tooltip. With the canvas focused: arrow keys move between nodes (up: parent, down: first child,
 * left/right: siblings), Enter collapses or expands, Shift+arrows pan, + and - zoom, 0 fits.
 */
export default function TreeCanvas({ state, selectedId, highlightId, onSelect, collapsed, onToggleCollapse, label, handleRef, onFrame, overlay }: Props) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<TreeRenderer | null>(null);
  const autoFit = useRef(true);
  const onSelectRef = useRef(onSelect);
  const onFrameRef = useRef(onFrame);
  const onToggleRef = useRef(onToggleCollapse);
  const selectedRef = useRef(selectedId);
  const [tip, setTip] = useState<Tip | null>(null);
  const [announce, setAnnounce] = useState('');
  const tipId = useId();
  useEffect(() => {
    onSelectRef.current = onSelect;
    onFrameRef.current = onFrame;
    onToggleRef.current = onToggleCollapse;
    selectedRef.current = selectedId;
  });

  // Create the renderer, size it, and wire pointer, wheel and keyboard input.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const wrap = wrapRef.current!;
    const r = new TreeRenderer(canvas);
    const deps = dependencyLayer();
    r.edgeLayers = [deps]; // dashed "needs" edges between siblings
    rendererRef.current = r;
    r.onFrame = (ms) => onFrameRef.current?.(ms);
    const size = () => {
      const rect = wrap.getBoundingClientRect();
      r.resize(rect.width, rect.height, window.devicePixelRatio || 1);
      if (autoFit.current) r.fit();
    };
    size();
    const ro = new ResizeObserver(size);
    ro.observe(wrap);

    const pointers = new Map<number, { x: number; y: number }>();
    let downAt: { x: number; y: number } | null = null;
    let moved = false;
    let pinch: number | null = null;
    const local = (e: PointerEvent | WheelEvent) => {
      const rect = canvas.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    };
    const down = (e: PointerEvent) => {
      canvas.setPointerCapture(e.pointerId);
      const p = local(e);
      pointers.set(e.pointerId, p);
      downAt = p;
      moved = false;
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      }
    };
    const move = (e: PointerEvent) => {
      const p = local(e);
      const prev = pointers.get(e.pointerId);
      if (!prev) {
        const i = r.hitTest(p.x, p.y);
        canvas.style.cursor = i >= 0 ? 'pointer' : 'grab';
        if (i >= 0) {
          const s = r.screenOf(i);
          setTip({ x: s.x, y: s.y, ...describeNode(r.layout, i) });
        } else {
          setTip(null);
        }
        return;
      }
      setTip(null);
      pointers.set(e.pointerId, p);
      if (pointers.size === 2 && pinch) {
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a!.x - b!.x, a!.y - b!.y);
        r.zoomAt((a!.x + b!.x) / 2, (a!.y + b!.y) / 2, d / pinch);
        pinch = d;
        moved = true;
        autoFit.current = false;
        return;
      }
      if (downAt && Math.hypot(p.x - downAt.x, p.y - downAt.y) > 4) moved = true;
      if (moved) {
        canvas.style.cursor = 'grabbing';
        autoFit.current = false;
        r.pan(p.x - prev.x, p.y - prev.y);
      }
    };
    const up = (e: PointerEvent) => {
      const p = local(e);
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      if (!moved && downAt && pointers.size === 0) {
        const i = r.hitTest(p.x, p.y);
        // A picked node stays where it is: the view stops following the growing tree (Fit resumes it).
        if (i >= 0) autoFit.current = false;
        onSelectRef.current(i >= 0 ? r.layout.ids[i]! : null);
      }
      if (pointers.size === 0) {
        downAt = null;
        canvas.style.cursor = 'grab';
      }
    };
    const leave = () => setTip(null);
    const dbl = (e: MouseEvent) => {
      const rect = canvas.getBoundingClientRect();
      const i = r.hitTest(e.clientX - rect.left, e.clientY - rect.top);
      if (i >= 0 && r.layout.children[i]!.length) onToggleRef.current?.(r.layout.ids[i]!);
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      setTip(null);
      const p = local(e);
      autoFit.current = false;
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      r.zoomAt(p.x, p.y, Math.exp(-dy * 0.0015));
    };
    const key = (e: KeyboardEvent) => {
      setTip(null); // the pointer's tooltip would point at a stale place once the view or the tree changes
      const step = 60;
      const L = r.layout;
      const current = selectedRef.current ? (L.index.get(selectedRef.current) ?? -1) : -1;
      const go = (dir: 'parent' | 'child' | 'prev' | 'next') => {
        if (!L.size) return;
        const next = current < 0 ? L.root : L.step(current, dir);
        const { title, detail } = describeNode(L, next);
        setAnnounce(`${title}: ${detail}`);
        autoFit.current = false;
        if (next !== current) onSelectRef.current(L.ids[next]!);
      };
      const handled = ((): boolean => {
        if (e.shiftKey && e.key.startsWith('Arrow')) {
          if (e.key === 'ArrowLeft') r.pan(step, 0);
          else if (e.key === 'ArrowRight') r.pan(-step, 0);
          else if (e.key === 'ArrowUp') r.pan(0, step);
          else r.pan(0, -step);
          autoFit.current = false;
          return true;
        }
        switch (e.key) {
          case 'ArrowLeft':
            go('prev');
            return true;
          case 'ArrowRight':
            go('next');
            return true;
          case 'ArrowUp':
            go('parent');
            return true;
          case 'ArrowDown':
            go('child');
            return true;
          case 'Home':
            if (L.root >= 0) onSelectRef.current(L.ids[L.root]!);
            return true;
          case 'Enter':
          case ' ':
            if (current >= 0 && L.children[current]!.length) {
              const folded = L.isCollapsed(current);
              setAnnounce(folded ? 'Expanded.' : `Collapsed, ${plural(L.descendants[current]!, 'node')} hidden.`);
              onToggleRef.current?.(L.ids[current]!);
            }
            return true;
          case '+':
          case '=':
            autoFit.current = false;
            r.zoomAt(r.width / 2, r.height / 2, 1.25);
            return true;
          case '-':
            autoFit.current = false;
            r.zoomAt(r.width / 2, r.height / 2, 0.8);
            return true;
          case '0':
            autoFit.current = true;
            r.fit();
            return true;
          case 'Escape':
            onSelectRef.current(null);
            return true;
          default:
            return false;
        }
      })();
      if (handled) e.preventDefault();
    };
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointercancel', up);
    canvas.addEventListener('wheel', wheel, { passive: false });
    canvas.addEventListener('keydown', key);
    canvas.addEventListener('pointerleave', leave);
    canvas.addEventListener('dblclick', dbl);

    window.__treeDebug = {
      nodeCount: () => r.layout.size,
      nodeIds: () => [...r.layout.ids],
      nodePosition: (id) => {
        const i = r.layout.index.get(id);
        if (i === undefined) return null;
        r.layout.ensure();
        if (r.layout.hidden[i]) return null;
        const p = r.screenOf(i);
        if (p.x < 0 || p.y < 0 || p.x > r.width || p.y > r.height) return null;
        const rect = canvas.getBoundingClientRect();
        return { x: rect.left + p.x, y: rect.top + p.y };
      },
      visibleCount: () => r.stats.drawn,
      glyphPx: () => r.glyphPx(),
      camera: () => ({ ...r.camera }),
      isHidden: (id) => {
        const i = r.layout.index.get(id);
        r.layout.ensure();
        return i === undefined || r.layout.hidden[i] === 1;
      },
      lastFrameMs: () => r.stats.ms,
      frames: () => r.stats.frames,
      dependencyEdges: () => deps.drawnIds(r.layout),
      renderer: r,
    };
    return () => {
      ro.disconnect();
      canvas.removeEventListener('pointerdown', down);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerup', up);
      canvas.removeEventListener('pointercancel', up);
      canvas.removeEventListener('wheel', wheel);
      canvas.removeEventListener('keydown', key);
      canvas.removeEventListener('pointerleave', leave);
      canvas.removeEventListener('dblclick', dbl);
      if (window.__treeDebug?.renderer === r) delete window.__treeDebug;
      rendererRef.current = null;
    };
  }, []);

  // An overlay opened, closed or resized over the canvas's lower left (the legend): refit while the view is the
  // fitted one.
  const overlayWidth = overlay?.width ?? 0;
  const overlayHeight = overlay?.height ?? 0;
  useEffect(() => {
    const r = rendererRef.current;
    if (!r) return;
    r.overlay = { width: overlayWidth, height: overlayHeight };
    if (autoFit.current) r.fit();
  }, [overlayWidth, overlayHeight]);

  // Follow the state and the collapsed set: incremental index, redraw, keep fitting until the user moves
  // the view.
  useEffect(() => {
    const r = rendererRef.current;
    if (!r) return;
    const before = r.layout.structure;
    const synced = r.layout.sync(state);
    const folded = r.layout.setCollapsed(collapsed ?? []);
    if (synced || folded) {
      if (autoFit.current && (r.layout.structure !== before || folded)) r.fit();
      r.requestDraw();
    }
  }, [state, collapsed]);

  // A selected node is brought into view only when it is off screen: selecting never moves the view.
  const revealed = useRef<string | null>(null);
  useEffect(() => {
    const r = rendererRef.current;
    if (!r) return;
    r.selected = selectedId ? (r.layout.index.get(selectedId) ?? -1) : -1;
    r.highlighted = highlightId ? (r.layout.index.get(highlightId) ?? -1) : -1;
    if (selectedId && r.selected >= 0 && revealed.current !== selectedId) {
      revealed.current = selectedId;
      if (r.ensureVisible(r.selected)) autoFit.current = false;
    }
    if (!selectedId) revealed.current = null;
    r.requestDraw();
  }, [selectedId, highlightId, state, collapsed]);

  useImperativeHandle(
    handleRef,
    () => ({
      fit() {
        autoFit.current = true;
        rendererRef.current?.fit();
      },
      zoom(factor) {
        const r = rendererRef.current;
        if (!r) return;
        autoFit.current = false;
        r.zoomAt(r.width / 2, r.height / 2, factor);
      },
      centerOn(nodeId) {
        const r = rendererRef.current;
        const i = r?.layout.index.get(nodeId);
        if (!r || i === undefined) return;
        autoFit.current = false;
        r.centerOn(i);
      },
      reveal(nodeId) {
        const r = rendererRef.current;
        const i = r?.layout.index.get(nodeId);
        if (!r || i === undefined) return;
        if (r.ensureVisible(i)) autoFit.current = false;
      },
      renderer: () => rendererRef.current,
    }),
    [],
  );

  return (
    <div className="tree-canvas-wrap" ref={wrapRef}>
      <canvas
        ref={canvasRef}
        className="tree-canvas"
        data-testid="tree-canvas"
        role="application"
        aria-roledescription="tree diagram"
        aria-label={label}
        aria-describedby={tip ? tipId : undefined}
        tabIndex={0}
      />
      {tip ? (
        <div
          id={tipId}
          role="tooltip"
          className="tree-tooltip"
          data-testid="tree-tooltip"
          style={{ left: tip.x, top: tip.y }}
        >
          <strong>{tip.title}</strong>
          <span>{tip.detail}</span>
        </div>
      ) : null}
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="tree-announce">
        {announce}
      </p>
    </div>
  );
}
