import type { SwarmStatus } from '../../api/types';

const LABELS: Record<SwarmStatus, string> = {
  draft: 'Draft',
  running: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
};

export default function StatusBadge({ status }: { status: SwarmStatus }) {
  return (
    <span className={`badge badge-${status}`} data-testid="status-badge" data-status={status}>
      <span className="visually-hidden">Status: </span>
      {LABELS[status]}
    </span>
  );
}
