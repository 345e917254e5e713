import { Link } from 'react-router';
import { describeError } from '../../api/errors';
import { useLiveNodeDetail } from '../logs/useLiveNodeDetail';
import type { Node } from '../../api/types';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import JournalList from '../logs/JournalList';
import Markdown from '../../components/Markdown';
import NodeSteering from '../steering/NodeSteering';
import { formatTime } from '../../lib/format';
import { ACTION_LABELS, LIFECYCLE_LABELS } from './glyphs';
import LLMCallView from '../logs/LLMCallView';

const ENDED = new Set(['done', 'failed', 'cancelled']);

// the built-in termination policies (engine/policies.py); any other name is a custom action's own
const POLICY_LABELS: Record<string, string> = {
  all: 'all: review every report',
  fail_fast: 'fail fast: the first failure fails it',
  first: 'first: the first one done is the answer',
  confirm: 'confirm: the task must be confirmed met, or re-planned',
};

interface NodePanelProps {
  swarmId: string;
  node: Node;
  at?: number;
  collapsed: boolean;
  onToggleCollapse(): void;
  onClose(): void;
}

export default function NodePanel({ swarmId, node, at, collapsed, onToggleCollapse, onClose }: NodePanelProps) {
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
      {node.report ? (
        <Markdown>{node.report}</Markdown>
      ) : (
        <p className="hint">{ENDED.has(node.lifecycle) ? 'No report: it ended without one.' : 'No report yet.'}</p>
      )}
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
