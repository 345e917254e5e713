import type { SwarmStatus } from '../../api/types';
import { useAppSelector } from '../../app/store';

const TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  catching_up: 'Catching up…',
  reconnecting: 'Reconnecting…',
  error: 'Connection refused, retrying',
} as const;

/** Shows whether live updates are flowing for the swarm on screen, and if not, why. */
export default function ConnectionIndicator({ swarmId, status }: { swarmId?: string; status: SwarmStatus | null }) {
  const conn = useAppSelector((s) => s.connection);
  const notice = swarmId ? conn.notices[swarmId] : undefined;
  let text: string;
  let tone: string;
  if (conn.status !== 'offline') {
    text = TEXT[conn.status];
    tone = conn.status === 'live' ? 'ok' : conn.status === 'error' ? 'bad' : 'busy';
  } else if (status === 'paused' || (notice === 'paused' && status !== 'running')) {
    // The swarm's own status first: an older idle notice must not hide a pause or an end.
    text = 'Not live: paused';
    tone = 'idle';
  } else if (notice === 'finished' || status === 'completed' || status === 'failed') {
    text = 'Not live: finished';
    tone = 'idle';
  } else if (notice === 'idle') {
    text = 'Idle: waiting for your reply';
    tone = 'idle';
  } else if (status === 'draft') {
    text = 'Not live: not spawned';
    tone = 'idle';
  } else if (!swarmId) {
    text = 'Not live: nothing running';
    tone = 'idle';
  } else {
    text = 'Offline';
    tone = 'idle';
  }
  return (
    <span className={`conn conn-${tone}`} role="status" aria-live="polite" data-testid="connection" data-state={conn.status}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="visually-hidden">Connection: </span>
      {text}
    </span>
  );
}
