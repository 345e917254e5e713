import { Link } from 'react-router';
import type { SwarmListItem } from '../../api/types';
import { plural } from '../../lib/format';
import { plainPreview } from '../../lib/plainText';

/** On a swarm card: the outcome's beginning as plain text, and how many questions wait on the person. */
export default function OutcomePreview({ swarm }: { swarm: Pick<SwarmListItem, 'id' | 'status' | 'outcome' | 'waiting_count'> }) {
  const waiting = swarm.waiting_count;
  return (
    <>
      {swarm.outcome && swarm.status === 'completed' ? (
        <p className="outcome-preview" data-testid="swarm-outcome">
          <span className="outcome-label">Outcome:</span> {plainPreview(swarm.outcome, 300)}
        </p>
      ) : null}
      {swarm.outcome && swarm.status === 'failed' ? (
        <p className="failure" data-testid="swarm-outcome">
          Failed: {swarm.outcome}
        </p>
      ) : null}
      {waiting > 0 ? (
        <p className="waiting-count" data-testid="waiting-count">
          <Link to={`/swarms/${swarm.id}/chat`}>
            {plural(waiting, 'question waits', 'questions wait')} on you
          </Link>
        </p>
      ) : null}
    </>
  );
}
