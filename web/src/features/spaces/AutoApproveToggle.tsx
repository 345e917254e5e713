interface AutoApproveToggleProps {
  /** The tool's action id, e.g. `fs.write_file`. */
  tool: string;
  /** The swarm's auto-approve switch as of the shown point (`SwarmState.auto_approve`; `*` is every tool). */
  covered: readonly string[];
  /** Showing a past point of the history: the switch is shown as it was then, and cannot be changed there. */
  past: boolean;
  busy: boolean;
  /** The value just asked for, shown instead of `covered`'s until the swarm's state has it. */
  pending?: boolean | null;
  onChange(enabled: boolean): void;
}

/**
 * The person's per-swarm switch for one tool whose operator policy is `ask`: on, its calls in this swarm run
 * without asking (and the ones waiting now are approved). When every tool is on (`*`, set from the command
 * line), the tool is covered whatever its own switch says, so that switch is shown on and cannot be turned off.
 */
export default function AutoApproveToggle({ tool, covered, past, busy, pending = null, onChange }: AutoApproveToggleProps) {
  const all = covered.includes('*');
  const on = pending ?? (all || covered.includes(tool));
  return (
    <div className="auto-approve-toggle" data-testid="auto-approve-toggle">
      <label>
        <input
          type="checkbox"
          role="switch"
          checked={on}
          disabled={past || busy || all}
          aria-busy={busy || undefined}
          onChange={(e) => onChange(e.target.checked)}
        />{' '}
        Approve <code>{tool}</code> automatically in this swarm
      </label>
      <p className="hint">
        {all
          ? 'Every tool is approved automatically in this swarm (aga-swarm approve-tools SWARM --off turns that off).'
          : past
            ? 'As it was at this point of the history; go back to live to change it.'
            : on
              ? 'Its calls run without asking you.'
              : 'Each call waits for your approval in the node’s chat.'}
      </p>
    </div>
  );
}
