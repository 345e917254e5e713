// What a swarm came to, where people look first: the swarm cards (the beginning of it, and the questions
// that wait on the person) and the swarm header (all of it).
import type { SwarmState, SwarmSummary } from '../../api/types';
import { plainPreview } from '../../lib/plainText';
import Markdown from '../../components/Markdown';

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
