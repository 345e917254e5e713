import { useId, useState } from 'react';
import type { Node } from '../../api/types';

/** What a node waiting on the person asks for: approving a tool call, running an interrupted call again, or
 * neither (an ordinary question). Read from the step its continuation resumes (the engine's tool steps). */
export type Decision = 'approval' | 'rerun' | null;

const APPROVAL_STEPS = new Set(['tool.on_approval', 'tools.on_approval']);

export function decisionFor(node: Pick<Node, 'continuation'> | undefined): Decision {
  const next = node?.continuation?.next_step;
  if (!next) return null;
  if (APPROVAL_STEPS.has(next)) return 'approval';
  if (next === 'tool.on_rerun') return 'rerun';
  return null;
}

/** The tool a node waits to have approved (the engine's ``actions/tools.py::pending_approval``), or null. */
export function pendingTool(node: Pick<Node, 'continuation'> | undefined): string | null {
  const cont = node?.continuation;
  if (!cont) return null;
  const ctx = (cont.context ?? {}) as Record<string, unknown>;
  if (cont.next_step === 'tool.on_approval') return `${String(ctx.server)}.${String(ctx.name)}`;
  if (cont.next_step === 'tools.on_approval') {
    const name = String((ctx.current as { name?: unknown } | null | undefined)?.name ?? '');
    const functions = (ctx.functions ?? {}) as Record<string, string>;
    return functions[name] ?? (name || null);
  }
  return null;
}

/** The reply the buttons send: the engine reads `yes` as approval and `no <reason>` as a denial with a reason
 * (free text in the composer works the same way). */
export function decisionReply(approve: boolean, reason: string): string {
  if (approve) return 'yes';
  const why = reason.trim();
  return why ? `no, ${why}` : 'no';
}

interface Props {
  kind: Exclude<Decision, null>;
  disabled: boolean;
  onDecide(content: string): void;
  /** The tool waiting for approval: with `onAutoApprove`, a checkbox offers to approve it automatically. */
  tool?: string | null;
  /** Turn on the swarm's auto-approve switch for `tool` (the server then answers this approval too). */
  onAutoApprove?(tool: string): void;
}

/** Approve / Deny buttons (or Run again / Don't) above the composer, with an optional reason for a denial. */
export default function ApprovalBar({ kind, disabled, onDecide, tool, onAutoApprove }: Props) {
  const [reason, setReason] = useState('');
  const [always, setAlways] = useState(false);
  const reasonId = useId();
  const approval = kind === 'approval';
  const offerAlways = approval && !!tool && !!onAutoApprove;
  const approve = () => {
    if (offerAlways && always) onAutoApprove!(tool!);
    else onDecide(decisionReply(true, ''));
  };
  return (
    <div className="approval-bar" role="group" aria-label={approval ? 'Approve this tool call' : 'Run the call again'} data-testid="approval-bar">
      <button type="button" className="primary" disabled={disabled} onClick={approve}>
        {approval ? 'Approve' : 'Run it again'}
      </button>
      <button type="button" disabled={disabled} onClick={() => onDecide(decisionReply(false, reason))}>
        {approval ? 'Deny' : "Don't run it"}
      </button>
      {approval ? (
        <>
          <label htmlFor={reasonId} className="visually-hidden">
            Reason for a denial (optional)
          </label>
          <input
            id={reasonId}
            type="text"
            placeholder="Reason for a denial (optional)"
            value={reason}
            maxLength={500}
            disabled={disabled}
            onChange={(e) => setReason(e.target.value)}
          />
        </>
      ) : null}
      {offerAlways ? (
        <label className="approval-always">
          <input type="checkbox" checked={always} disabled={disabled} onChange={(e) => setAlways(e.target.checked)} />
          Approve <code>{tool}</code> automatically in this swarm
        </label>
      ) : null}
    </div>
  );
}
