import { useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useActionSpaceQuery } from '../../api/http';
import { describeError } from '../../api/errors';
import type { ActionFolderInfo, ActionInfo, SwarmState } from '../../api/types';
import { EmptyState, ErrorMessage, Loading } from '../../components/Feedback';
import { plural } from '../../lib/format';
import {
  APPROVAL_LABELS,
  ORIGIN_LABELS,
  allActions,
  folderCount,
  foldersAbove,
  nodesByAction,
  schemaFields,
} from './actions';
import { useAppSelector } from '../../app/store';
import { selectIsHistory, selectViewState } from '../history/selectors';
import { ACTION_LABELS, LIFECYCLE_LABELS } from '../tree/glyphs';
import HistoryBar from '../history/HistoryBar';
import './spaces.css';

/** Nodes listed under an action before "and N more". */
const NODE_LIST_MAX = 200;

/**
 * The action space of a swarm: its folders and actions (built-in, tools, MCP servers' tools, custom), each
 * with what it takes and its approval policy, and the nodes that ran it as of the history slider's point.
 */
export default function ActionsPage() {
  const { swarmId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('action');
  const q = useActionSpaceQuery(swarmId);
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const shownSeq = useAppSelector((s) => s.scrub.shownSeq);
  const liveSeq = useAppSelector((s) => s.live.swarms[swarmId]?.state?.seq ?? 0);
  const counts = useMemo(() => nodesByAction(view), [view]);
  const [closed, setClosed] = useState<string[]>([]);

  const root = q.data?.root;
  const selected = root && selectedId ? allActions(root).find((x) => x.action.id === selectedId) : undefined;
  const select = (id: string) => {
    const next = new URLSearchParams(params);
    next.set('action', id);
    setParams(next, { replace: true });
  };
  // A selected action inside closed folders (a link, a reload) shows: the folders above it are drawn open.
  const above = root && selectedId ? foldersAbove(root, selectedId) : [];
  const shownClosed = closed.filter((c) => !above.includes(c));
  const toggle = (path: string) =>
    setClosed(shownClosed.includes(path) ? shownClosed.filter((c) => c !== path) : [...shownClosed, path]);

  return (
    <div className="space-page">
      <div className="space-body">
        <nav className="space-tree" aria-label="Action space">
          <h2>
            Action space{' '}
            <span className="hint">{history ? `as of event ${shownSeq.toLocaleString()}` : ''}</span>
          </h2>
          {q.isLoading ? (
            <Loading label="Loading the action space…" />
          ) : q.error || !root ? (
            <ErrorMessage>{describeError(q.error)}</ErrorMessage>
          ) : (
            <FolderView
              folder={root}
              counts={counts}
              closed={shownClosed}
              selectedId={selectedId}
              onToggle={toggle}
              onSelect={select}
              top
            />
          )}
        </nav>
        <section className="space-detail" aria-label="Action details">
          {selected ? (
            <ActionDetail
              swarmId={swarmId}
              action={selected.action}
              folder={selected.folder}
              nodes={counts.get(selected.action.id) ?? []}
              state={view}
              at={history ? shownSeq : null}
            />
          ) : selectedId && root ? (
            <EmptyState title="This swarm has no such action.">
              <p>It may come from a server or plugin that is no longer configured.</p>
            </EmptyState>
          ) : (
            <EmptyState title="Pick an action.">
              <p>
                The model routes each subtask down these folders to one action. Pick one to see what it takes, whether it
                asks you first, and which nodes ran it.
              </p>
            </EmptyState>
          )}
        </section>
      </div>
      <HistoryBar swarmId={swarmId} liveSeq={liveSeq} />
    </div>
  );
}

interface FolderViewProps {
  folder: ActionFolderInfo;
  counts: Map<string, string[]>;
  closed: string[];
  selectedId: string | null;
  onToggle(path: string): void;
  onSelect(id: string): void;
  top?: boolean;
}

function FolderView({ folder, counts, closed, selectedId, onToggle, onSelect, top }: FolderViewProps) {
  return (
    <ul className={top ? 'space-list space-list-top' : 'space-list'}>
      {folder.folders.map((f) => {
        const open = !closed.includes(f.path);
        const n = folderCount(f, counts);
        return (
          <li key={f.path} className="space-folder">
            <button
              type="button"
              className="space-folder-button"
              aria-expanded={open}
              onClick={() => onToggle(f.path)}
              title={f.description}
            >
              <span aria-hidden="true" className="space-caret">
                {open ? '▾' : '▸'}
              </span>
              <span className="space-name">{f.id}/</span>
              {n ? <span className="count-chip" aria-label={`${plural(n, 'node')}`}>{n}</span> : null}
            </button>
            {open ? (
              <FolderView
                folder={f}
                counts={counts}
                closed={closed}
                selectedId={selectedId}
                onToggle={onToggle}
                onSelect={onSelect}
              />
            ) : null}
          </li>
        );
      })}
      {folder.actions.map((a) => {
        const n = counts.get(a.id)?.length ?? 0;
        return (
          <li key={a.id}>
            <button
              type="button"
              className={`space-item${a.id === selectedId ? ' active' : ''}`}
              aria-current={a.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(a.id)}
              data-testid="action-item"
              data-action={a.id}
            >
              <span className="space-name">{a.id}</span>
              <span className={`origin-chip origin-${a.origin}`}>{ORIGIN_LABELS[a.origin]}</span>
              {a.approval && a.approval !== 'auto' ? (
                <span className={`approval-chip approval-${a.approval}`}>{a.approval}</span>
              ) : null}
              {n ? (
                <span className="count-chip" aria-label={`${plural(n, 'node')}`}>
                  {n}
                </span>
              ) : null}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

interface ActionDetailProps {
  swarmId: string;
  action: ActionInfo;
  folder: string;
  nodes: string[];
  state: SwarmState | null;
  at: number | null;
}

function ActionDetail({ swarmId, action, folder, nodes, state, at }: ActionDetailProps) {
  const fields = schemaFields(action.input_schema);
  return (
    <div className="action-detail" data-testid="action-detail">
      <h2>
        <code>{action.id}</code>
      </h2>
      <p>{action.description}</p>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>
          {ORIGIN_LABELS[action.origin]}
          {action.server ? (
            <>
              {' '}
              of the server <code>{action.server}</code>
            </>
          ) : null}
        </dd>
        <dt>Folder</dt>
        <dd>
          <code>{folder || '/'}</code>
        </dd>
        <dt>Node type</dt>
        <dd>{ACTION_LABELS[action.action_type]}</dd>
        <dt>Approval</dt>
        <dd data-testid="action-approval">
          {action.approval ? APPROVAL_LABELS[action.approval] : 'Calls no tool: nothing to approve'}
        </dd>
        {action.read_only !== null ? (
          <>
            <dt>Changes things</dt>
            <dd>{action.read_only ? 'No (read-only)' : 'Yes'}</dd>
          </>
        ) : null}
        {action.idempotent !== null ? (
          <>
            <dt>After a crash</dt>
            <dd>{action.idempotent ? 'Called again (safe to repeat)' : 'You are asked before it runs again'}</dd>
          </>
        ) : null}
        {!action.routable ? (
          <>
            <dt>Routing</dt>
            <dd>Not offered to the model; the engine starts it itself</dd>
          </>
        ) : null}
      </dl>
      <h3>Input</h3>
      {action.input_schema === null ? (
        <p className="hint">The node's directive (its subtask, in words) and the context the swarm passes it.</p>
      ) : (
        <>
          {fields.length ? (
            <table className="schema-table" data-testid="input-schema">
              <thead>
                <tr>
                  <th scope="col">Argument</th>
                  <th scope="col">Type</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {fields.map((f) => (
                  <tr key={f.name}>
                    <td>
                      <code>{f.name}</code>
                      {f.required ? <span className="required"> required</span> : null}
                    </td>
                    <td>
                      <code>{f.type}</code>
                    </td>
                    <td>{f.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="hint">No arguments.</p>
          )}
          <details className="schema-json">
            <summary>JSON Schema</summary>
            <pre tabIndex={0}>{JSON.stringify(action.input_schema, null, 2)}</pre>
          </details>
        </>
      )}
      <h3 data-testid="action-node-count">
        {nodes.length ? plural(nodes.length, 'node') : 'No nodes'} ran this action
        {at !== null ? ` as of event ${at.toLocaleString()}` : ''}
      </h3>
      {nodes.length ? (
        <ul className="action-nodes">
          {nodes.slice(0, NODE_LIST_MAX).map((id) => {
            const node = state?.nodes[id];
            return (
              <li key={id}>
                <Link to={`/swarms/${swarmId}/tree?node=${encodeURIComponent(id)}`} data-testid="action-node">
                  {node?.title ?? id}
                </Link>{' '}
                <code className="hint">{id}</code>
                {node ? <span className={`chip chip-life-${node.lifecycle}`}> {LIFECYCLE_LABELS[node.lifecycle]}</span> : null}
              </li>
            );
          })}
          {nodes.length > NODE_LIST_MAX ? (
            <li className="hint">and {(nodes.length - NODE_LIST_MAX).toLocaleString()} more (find them in the tree)</li>
          ) : null}
        </ul>
      ) : (
        <p className="hint">No node of this swarm was routed here{at !== null ? ' by this point' : ' yet'}.</p>
      )}
    </div>
  );
}
