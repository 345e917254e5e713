import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import type { SwarmState } from '../api/types';
import { TreeRenderer } from './renderer';

export interface TreeCanvasHandle {
  fit(): void;
  zoom(factor: number): void;
  centerOn(nodeId: string): void;
  renderer(): TreeRenderer | null;
}

export interface TreeDebug {
  nodeCount(): number;
  nodeIds(): string[];
  /** Page (client) coordinates of a node's glyph centre, or null if unknown or off-screen. */
  nodePosition(id: string): { x: number; y: number } | null;
  visibleCount(): number;
  lastFrameMs(): number;
  frames(): number;
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
  label: string;
  handleRef?: Ref<TreeCanvasHandle>;
  onFrame?: (ms: number) => void;
}

/** The tree, drawn on a canvas. Drag to pan, wheel or pinch to zoom, click a glyph to select it. */
export default function TreeCanvas({ state, selectedId, highlightId, onSelect, label, handleRef, onFrame }: Props) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<TreeRenderer | null>(null);
  const autoFit = useRef(true);
  const onSelectRef = useRef(onSelect);
  const onFrameRef = useRef(onFrame);
  useEffect(() => {
    onSelectRef.current = onSelect;
    onFrameRef.current = onFrame;
  });

  // Create the renderer, size it, and wire pointer, wheel and keyboard input.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const wrap = wrapRef.current!;
    const r = new TreeRenderer(canvas);
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
        canvas.style.cursor = r.hitTest(p.x, p.y) >= 0 ? 'pointer' : 'grab';
        return;
      }
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
        onSelectRef.current(i >= 0 ? r.layout.ids[i]! : null);
      }
      if (pointers.size === 0) {
        downAt = null;
        canvas.style.cursor = 'grab';
      }
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = local(e);
      autoFit.current = false;
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      r.zoomAt(p.x, p.y, Math.exp(-dy * 0.0015));
    };
    const key = (e: KeyboardEvent) => {
      const step = 60;
      const handled = ((): boolean => {
        switch (e.key) {
          case 'ArrowLeft':
            r.pan(step, 0);
            return true;
          case 'ArrowRight':
            r.pan(-step, 0);
            return true;
          case 'ArrowUp':
            r.pan(0, step);
            return true;
          case 'ArrowDown':
            r.pan(0, -step);
            return true;
          case '+':
          case '=':
            r.zoomAt(r.width / 2, r.height / 2, 1.25);
            return true;
          case '-':
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
      if (handled) {
        e.preventDefault();
        if (e.key !== '0' && e.key !== 'Escape') autoFit.current = false;
      }
    };
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointercancel', up);
    canvas.addEventListener('wheel', wheel, { passive: false });
    canvas.addEventListener('keydown', key);

    window.__treeDebug = {
      nodeCount: () => r.layout.size,
      nodeIds: () => [...r.layout.ids],
      nodePosition: (id) => {
        const i = r.layout.index.get(id);
        if (i === undefined) return null;
        const p = r.screenOf(i);
        if (p.x < 0 || p.y < 0 || p.x > r.width || p.y > r.height) return null;
        const rect = canvas.getBoundingClientRect();
        return { x: rect.left + p.x, y: rect.top + p.y };
      },
      visibleCount: () => r.stats.drawn,
      lastFrameMs: () => r.stats.ms,
      frames: () => r.stats.frames,
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
      if (window.__treeDebug?.renderer === r) delete window.__treeDebug;
      rendererRef.current = null;
    };
  }, []);

  // Follow the state: incremental layout, redraw, keep fitting until the user moves the view.
  useEffect(() => {
    const r = rendererRef.current;
    if (!r) return;
    const before = r.layout.structure;
    if (r.layout.sync(state)) {
      if (autoFit.current && r.layout.structure !== before) r.fit();
      r.requestDraw();
    }
  }, [state]);

  useEffect(() => {
    const r = rendererRef.current;
    if (!r) return;
    r.selected = selectedId ? (r.layout.index.get(selectedId) ?? -1) : -1;
    r.highlighted = highlightId ? (r.layout.index.get(highlightId) ?? -1) : -1;
    r.requestDraw();
  }, [selectedId, highlightId, state]);

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
        role="img"
        aria-label={label}
        tabIndex={0}
      />
    </div>
  );
}
