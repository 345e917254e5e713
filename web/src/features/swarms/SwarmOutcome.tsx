// What a swarm came to, where people look first: the swarm cards (the beginning of it, and the questions
// that wait on the person) and the swarm header (all of it).
import { Link } from 'react-router';
import type { SwarmListItem, SwarmState, SwarmSummary } from '../../api/types';
import { plural } from '../../lib/format';
import { plainPreview } from '../../lib/plainText';
import Markdown from '../../components/Markdown';

/** On a swarm card: the outcome's beginning as plain text, and how many questions wait on the person. */
export function OutcomePreview({ swarm }: { swarm: Pick<SwarmListItem, 'id' | 'status' | 'outcome' | 'waiting_count'> }) {
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

/**
 * In the swarm header, for a completed swarm: the root's report (from the live state when it is there,
 * else from the server), one line until opened. A failed swarm's reason shows in the header already.
 */
export function SwarmOutcome({ swarm, state }: { swarm: SwarmSummary; state: SwarmState | null }) {
  const status = state?.status ?? swarm.status;
  if (status !== 'completed') return null;
  const root = state?.root_node_id ? state.nodes[state.root_node_id] : undefined;
  const report = root?.report ?? swarm.outcome;
  if (!report) return null;
  const line = plainPreview(report, 300);
  return (
    <details className="swarm-outcome" data-testid="swarm-outcome">
      <summary>
        <span className="outcome-label">Outcome:</span> <span className="outcome-line">{line}</span>
      </summary>
      <div className="outcome-body">
        <Markdown>{report}</Markdown>
      </div>
    </details>
  );
}
