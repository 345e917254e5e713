import { useId, useState } from 'react';
import type { Node } from '../api/types';

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
}

/** Approve / Deny buttons (or Run again / Don't) above the composer, with an optional reason for a denial. */
export default function ApprovalBar({ kind, disabled, onDecide }: Props) {
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const approval = kind === 'approval';
  return (
    <div className="approval-bar" role="group" aria-label={approval ? 'Approve this tool call' : 'Run the call again'} data-testid="approval-bar">
      <button type="button" className="primary" disabled={disabled} onClick={() => onDecide(decisionReply(true, ''))}>
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
    </div>
  );
}
