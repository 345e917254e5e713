import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { describeError } from '../../api/errors';
import { useLiveNodeDetail } from '../logs/useLiveNodeDetail';
import type { LLMCall, Node, SwarmState } from '../../api/types';
import { LIFECYCLES } from '../../api/types';
import { EmptyState, ErrorMessage, Loading } from '../../components/Feedback';
import JournalList from '../logs/JournalList';
import Markdown from '../../components/Markdown';
import NodeSteering from '../steering/NodeSteering';
import { formatCost, formatMs, formatTime, plural } from '../../lib/format';
import { useAppSelector } from '../../app/store';
import { lifecycleCounts, selectIsHistory, selectOrderedChats, selectViewState } from '../history/selectors';
import { ACTION_LABELS, LIFECYCLE_LABELS } from './glyphs';
import HistoryBar from '../history/HistoryBar';
import Legend from './Legend';
import TreeCanvas, { type TreeCanvasHandle } from './TreeCanvas';

const EMPTY: string[] = [];
// the built-in termination policies (engine/policies.py); any other name is a custom action's own
const POLICY_LABELS: Record<string, string> = {
  all: 'all: review every report',
  fail_fast: 'fail fast: the first failure fails it',
  first: 'first: the first one done is the answer',
  confirm: 'confirm: the task must be confirmed met, or re-planned',
};

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
            state={view}
            selectedId={nodeParam}
            highlightId={nodeParam}
            onSelect={select}
            collapsed={shownCollapsed}
            onToggleCollapse={toggleCollapse}
            label={`Tree of ${plural(nodeCount, 'node')}. Arrow keys move between nodes (up: parent, down: first child, left and right: siblings), Enter collapses or expands a subtree, Shift and arrows pan, plus and minus zoom, 0 fits. Drag to pan, scroll to zoom, click a glyph to see its details, double-click to collapse.`}
          />
          {showLegend ? <Legend /> : null}
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

function FindNode({ state, onPick }: { state: SwarmState | null; onPick(id: string): void }) {
  const [q, setQ] = useState('');
  const uid = useId();
  const matches = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!needle || !state) return [];
    const out: Node[] = [];
    for (const id in state.nodes) {
      const n = state.nodes[id]!;
      if (n.title.toLowerCase().includes(needle) || n.id.toLowerCase() === needle) out.push(n);
      if (out.length >= 8) break;
    }
    return out;
  }, [q, state]);
  return (
    <div className="find-node">
      <label htmlFor={`${uid}-find`} className="visually-hidden">
        Find a node
      </label>
      <input
        id={`${uid}-find`}
        type="search"
        placeholder="Find a node…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {matches.length ? (
        <ul className="find-results" aria-label="Matching nodes">
          {matches.map((n) => (
            <li key={n.id}>
              <button
                type="button"
                onClick={() => {
                  onPick(n.id);
                  setQ('');
                }}
              >
                {n.title} <span className="hint">({LIFECYCLE_LABELS[n.lifecycle]})</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function ChatsAtPoint({ swarmId, state }: { swarmId: string; state: SwarmState | null }) {
  const chats = selectOrderedChats(state);
  return (
    <div className="side-section">
      <p className="hint">Click a glyph to see that node's developer log, journal and report.</p>
      <h2>Chats</h2>
      {chats.length ? (
        <ul className="mini-chats">
          {chats.slice(0, 50).map((c) => (
            <li key={c.id}>
              <Link to={`/swarms/${swarmId}/chat/${encodeURIComponent(c.id)}`}>{c.title}</Link>{' '}
              <span className={`chip chip-${c.status}`}>{c.status.replace('_', ' ')}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">No conversations at this point.</p>
      )}
    </div>
  );
}

interface NodePanelProps {
  swarmId: string;
  node: Node;
  at?: number;
  collapsed: boolean;
  onToggleCollapse(): void;
  onClose(): void;
}

function NodePanel({ swarmId, node, at, collapsed, onToggleCollapse, onClose }: NodePanelProps) {
  const q = useLiveNodeDetail(swarmId, node.id, at);

  return (
    <div className="node-panel" data-testid="node-panel">
      <div className="node-panel-head">
        <h2>{node.title}</h2>
        <button type="button" onClick={onClose} aria-label="Close node details">
          ✕
        </button>
      </div>
      <dl className="facts">
        <dt>Lifecycle</dt>
        <dd>{LIFECYCLE_LABELS[node.lifecycle]}</dd>
        <dt>Action</dt>
        <dd>
          {ACTION_LABELS[node.action_type]} ({node.action_id})
        </dd>
        <dt>Node</dt>
        <dd>
          <code>{node.id}</code>, depth {node.depth}
        </dd>
        {node.needs.length ? (
          <>
            <dt>Needs</dt>
            <dd data-testid="node-needs">{node.needs.join(', ')}</dd>
          </>
        ) : null}
        {node.needed_by.length ? (
          <>
            <dt>Needed by</dt>
            <dd>{node.needed_by.join(', ')}</dd>
          </>
        ) : null}
        {node.children.length || node.termination_policy !== 'all' ? (
          <>
            <dt>When subtasks end</dt>
            <dd data-testid="node-policy" title={`termination policy: ${node.termination_policy}`}>
              {POLICY_LABELS[node.termination_policy] ?? `${node.termination_policy} (custom policy)`}
            </dd>
          </>
        ) : null}
        <dt>Updated</dt>
        <dd>{formatTime(node.updated_at)}</dd>
      </dl>
      {at === undefined ? <NodeSteering swarmId={swarmId} node={node} /> : null}
      <p>
        <Link to={`/swarms/${swarmId}/chat/${encodeURIComponent(node.chat_id)}`}>Open this node's chat</Link>
      </p>
      {node.children.length ? (
        <p>
          <button type="button" aria-pressed={collapsed} onClick={onToggleCollapse}>
            {collapsed ? 'Expand subtree' : 'Collapse subtree'}
          </button>
        </p>
      ) : null}
      <h3>Directive</h3>
      <p className="pre">{node.directive}</p>
      {node.failure_reason ? (
        <>
          <h3>Failure</h3>
          <p className="failure">{node.failure_reason}</p>
        </>
      ) : null}
      <h3>Report</h3>
      {node.report ? <Markdown>{node.report}</Markdown> : <p className="hint">No report yet.</p>}
      {q.isLoading ? (
        <Loading label="Loading the developer log…" />
      ) : q.error || !q.data ? (
        <ErrorMessage>{describeError(q.error)}</ErrorMessage>
      ) : (
        <>
          {at !== undefined ? (
            <p className="hint" data-testid="detail-as-of">
              Journal and developer log as of event {at.toLocaleString()}.
            </p>
          ) : null}
          <h3>Journal</h3>
          <JournalList entries={q.data.journal} />
          <h3>Developer log</h3>
          <section aria-label="Developer log" data-testid="developer-log">
            {q.data.llm_calls.length ? (
              q.data.llm_calls.map((c) => <LLMCallView key={c.id} c={c} />)
            ) : (
              <p className="hint">No model calls yet.</p>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function LLMCallView({ c }: { c: LLMCall }) {
  return (
    <details className="llm-call" data-testid="llm-call">
      <summary>
        <span className="llm-step">{c.step}</span>
        <span className="llm-meta">
          {c.model} · {c.tokens_in.toLocaleString()} in / {c.tokens_out.toLocaleString()} out · {formatMs(c.latency_ms)} ·{' '}
          {formatCost(c.cost_usd)}
          {c.attempts > 1 ? ` · ${c.attempts} attempts` : ''}
        </span>
        {c.error ? <span className="failure"> · error</span> : null}
      </summary>
      <dl className="facts">
        <dt>Model</dt>
        <dd>{c.model}</dd>
        <dt>Tokens</dt>
        <dd>
          {c.tokens_in.toLocaleString()} in, {c.tokens_out.toLocaleString()} out
        </dd>
        <dt>Latency</dt>
        <dd>{formatMs(c.latency_ms)}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(c.cost_usd)}</dd>
        <dt>When</dt>
        <dd>{formatTime(c.created_at)}</dd>
      </dl>
      <h4>Prompt</h4>
      {c.messages.map((m, k) => (
        <div key={k} className="prompt-msg">
          <div className="prompt-role">{m.role}</div>
          <div className="prompt-content">{m.content}</div>
        </div>
      ))}
      <h4>Output</h4>
      {c.raw_output ? <pre className="output">{c.raw_output}</pre> : <p className="hint">No output.</p>}
      {c.error ? (
        <>
          <h4>Error</h4>
          <p className="failure">{c.error}</p>
        </>
      ) : null}
    </details>
  );
}
