import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import type { SwarmState } from '../../api/types';
import { LIFECYCLES } from '../../api/types';
import EmptyState from '../../components/EmptyState';
import { plural } from '../../lib/format';
import { useAppSelector } from '../../app/store';
import { lifecycleCounts, selectIsHistory, selectViewState } from '../history/selectors';
import { LIFECYCLE_LABELS } from './glyphs';
import HistoryBar from '../history/HistoryBar';
import Legend from './Legend';
import TreeCanvas, { type TreeCanvasHandle } from './TreeCanvas';
import FindNode from './FindNode';
import ChatsAtPoint from './ChatsAtPoint';
import NodePanel from './NodePanel';

const EMPTY: string[] = [];

/** `collapsed` without the ancestors of node `id` (the same array when none of them is collapsed). */
export function withoutAncestors(collapsed: string[], state: SwarmState | null, id: string | null): string[] {
  if (!id || !state?.nodes[id] || !collapsed.length) return collapsed;
  const around = new Set<string>();
  for (let p = state.nodes[id]!.parent_id; p && !around.has(p); p = state.nodes[p]?.parent_id ?? null) around.add(p);
  return collapsed.some((c) => around.has(c)) ? collapsed.filter((c) => !around.has(c)) : collapsed;
}

export function treeSummary(state: SwarmState | null): string {
  if (!state) return 'No tree yet.';
  const counts = lifecycleCounts(state);
  const total = Object.keys(state.nodes).length;
  if (!total) return 'No nodes yet.';
  const parts = LIFECYCLES.filter((l) => counts[l]).map((l) => `${counts[l]} ${LIFECYCLE_LABELS[l].toLowerCase()}`);
  return `${plural(total, 'node')}: ${parts.join(', ')}.`;
}

/** A summary for screen readers (and tests), updated at most every 300 ms. */
function useThrottledSummary(state: SwarmState | null): string {
  const [text, setText] = useState(() => treeSummary(state));
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, 300 - (Date.now() - last.current));
    const t = setTimeout(() => {
      last.current = Date.now();
      setText(treeSummary(state));
    }, wait);
    return () => clearTimeout(t);
  }, [state]);
  return text;
}

export default function TreePage() {
  const { swarmId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const nodeParam = params.get('node');
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const liveSeq = useAppSelector((s) => s.live.swarms[swarmId]?.state?.seq ?? 0);
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const shownSeq = useAppSelector((s) => s.scrub.shownSeq);
  const canvas = useRef<TreeCanvasHandle>(null);
  // The legend starts open, except on small screens where it would cover the tree.
  const [showLegend, setShowLegend] = useState(() => !window.matchMedia?.('(max-width: 760px)').matches);
  // the box the open legend covers at the canvas's lower left (with its margins), kept free by Fit
  const legendBox = useRef<HTMLDivElement>(null);
  const [legendSpace, setLegendSpace] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const box = legendBox.current;
    if (!showLegend || !box) {
      setLegendSpace({ width: 0, height: 0 });
      return;
    }
    const measure = () => {
      const stage = box.offsetParent?.getBoundingClientRect();
      const rect = box.getBoundingClientRect();
      if (!stage) return;
      const width = Math.max(0, Math.round(rect.right - stage.left + 8));
      const height = Math.max(0, Math.round(stage.bottom - rect.top + 8));
      setLegendSpace((was) => (was.width === width && was.height === height ? was : { width, height }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(box);
    return () => ro.disconnect();
  }, [showLegend]);
  const summary = useThrottledSummary(view);
  const nodeCount = view ? Object.keys(view.nodes).length : 0;
  // Collapsed subtrees (node ids), per swarm.
  const [folds, setFolds] = useState<{ swarmId: string; ids: string[] }>({ swarmId, ids: [] });
  const collapsed = folds.swarmId === swarmId ? folds.ids : EMPTY;
  const setCollapsed = (ids: string[]) => setFolds({ swarmId, ids });

  const select = (id: string | null) => {
    const open = withoutAncestors(collapsed, view, id);
    if (open !== collapsed) setCollapsed(open); // a node picked inside collapsed subtrees: open them
    const next = new URLSearchParams(params);
    if (id) next.set('node', id);
    else next.delete('node');
    setParams(next, { replace: true });
  };

  // A selected node inside a collapsed subtree (from Find, a link, a reload) shows: the subtrees around
  // it are drawn expanded. The canvas brings a selected node into view only when it is off screen.
  const shownCollapsed = withoutAncestors(collapsed, view, nodeParam);

  const toggleCollapse = (id: string) =>
    setCollapsed(shownCollapsed.includes(id) ? shownCollapsed.filter((c) => c !== id) : [...shownCollapsed, id]);

  const selectedNode = nodeParam ? view?.nodes[nodeParam] : undefined;

  return (
    <div className="tree-page">
      <div className="tree-toolbar" role="toolbar" aria-label="Tree view">
        <button type="button" onClick={() => canvas.current?.zoom(1.25)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => canvas.current?.zoom(0.8)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => canvas.current?.fit()}>
          Fit
        </button>
        <button
          type="button"
          className="tree-fold"
          onClick={() => setCollapsed(view ? Object.values(view.nodes).filter((n) => n.depth >= 1 && n.children.length).map((n) => n.id) : [])}
          disabled={!view || nodeCount < 2}
        >
          Collapse all
        </button>
        <button type="button" className="tree-fold" onClick={() => setCollapsed([])} disabled={!collapsed.length}>
          Expand all
        </button>
        <button type="button" aria-pressed={showLegend} onClick={() => setShowLegend((v) => !v)}>
          Legend
        </button>
        <FindNode state={view} onPick={(id) => select(id)} />
        <p className="tree-summary" role="status" aria-live="polite" data-testid="tree-summary">
          {history ? `At event ${shownSeq.toLocaleString()}: ` : ''}
          {summary}
        </p>
      </div>
      <div className="tree-body">
        <div className="tree-stage">
          {nodeCount === 0 ? (
            <div className="tree-empty">
              <EmptyState title={history ? 'No nodes at this point in the history.' : 'No nodes yet.'}>
                {view?.status === 'draft' ? <p>Press Spawn above to start the swarm; its tree grows here.</p> : null}
              </EmptyState>
            </div>
          ) : null}
          <TreeCanvas
            handleRef={canvas}
            overlay={legendSpace}
            state={view}
            selectedId={nodeParam}
            highlightId={nodeParam}
            onSelect={select}
            collapsed={shownCollapsed}
            onToggleCollapse={toggleCollapse}
            label={`Tree of ${plural(nodeCount, 'node')}. Arrow keys move between nodes (up: parent, down: first child, left and right: siblings), Enter collapses or expands a subtree, Shift and arrows pan, plus and minus zoom, 0 fits. Drag to pan, scroll to zoom, click a glyph to see its details, double-click to collapse.`}
          />
          {showLegend ? <Legend boxRef={legendBox} /> : null}
        </div>
        <aside className="tree-side" aria-label={selectedNode ? 'Node details' : 'Chats at this point'}>
          {nodeParam && view && !selectedNode ? (
            <EmptyState title="That node does not exist at this point.">
              <button type="button" onClick={() => select(null)}>
                Clear selection
              </button>
            </EmptyState>
          ) : selectedNode ? (
            <NodePanel
              swarmId={swarmId}
              node={selectedNode}
              collapsed={shownCollapsed.includes(selectedNode.id)}
              onToggleCollapse={() => toggleCollapse(selectedNode.id)}
              at={history ? shownSeq : undefined}
              onClose={() => select(null)}
            />
          ) : (
            <ChatsAtPoint swarmId={swarmId} state={view} />
          )}
        </aside>
      </div>
      <HistoryBar swarmId={swarmId} liveSeq={liveSeq} />
    </div>
  );
}
