import { Link } from 'react-router';
import type { ActionInfo, SwarmState } from '../../api/types';
import { plural } from '../../lib/format';
import { APPROVAL_LABELS, ORIGIN_LABELS, schemaFields } from './actions';
import { ACTION_LABELS, LIFECYCLE_LABELS } from '../tree/glyphs';
import AutoApproveToggle from './AutoApproveToggle';

/** Nodes listed under an action before "and N more". */
const NODE_LIST_MAX = 200;

interface ActionDetailProps {
  swarmId: string;
  action: ActionInfo;
  folder: string;
  nodes: string[];
  state: SwarmState | null;
  at: number | null;
  /** Turn this swarm's auto-approve switch for this tool on or off (a tool whose policy is `ask`). */
  onAutoApprove?(enabled: boolean): void;
  autoApproveBusy?: boolean;
  /** The value just asked for, shown until the swarm's state has it. */
  autoApprovePending?: boolean | null;
  autoApproveError?: string | null;
}

export default function ActionDetail({
  swarmId,
  action,
  folder,
  nodes,
  state,
  at,
  onAutoApprove,
  autoApproveBusy = false,
  autoApprovePending = null,
  autoApproveError = null,
}: ActionDetailProps) {
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
          {action.approval === 'ask' && onAutoApprove ? (
            <>
              <AutoApproveToggle
                tool={action.id}
                covered={state?.auto_approve ?? []}
                past={at !== null}
                busy={autoApproveBusy}
                pending={autoApprovePending}
                onChange={onAutoApprove}
              />
              {autoApproveError ? <p role="alert">{autoApproveError}</p> : null}
            </>
          ) : action.approval === 'deny' ? (
            <p className="hint" data-testid="deny-hint">
              The operator's policy denies this tool, so it cannot be approved automatically in a swarm.
            </p>
          ) : null}
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
