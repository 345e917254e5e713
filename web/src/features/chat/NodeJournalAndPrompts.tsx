import { describeError } from '../../api/errors';
import { useLiveNodeDetail } from '../logs/useLiveNodeDetail';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import JournalList from '../logs/JournalList';

/** The node's journal and the prompts it used, as plain role and content. */
export default function NodeJournalAndPrompts({ swarmId, nodeId }: { swarmId: string; nodeId: string }) {
  const q = useLiveNodeDetail(swarmId, nodeId);
  if (q.isLoading) return <Loading label="Loading the node's journal…" />;
  if (q.error || !q.data) return <ErrorMessage>{describeError(q.error)}</ErrorMessage>;
  const calls = q.data.llm_calls;
  return (
    <>
      <h3>Journal</h3>
      <JournalList entries={q.data.journal} />
      <h3>Prompts</h3>
      {calls.length ? (
        calls.map((c) => (
          <details key={c.id} className="prompt-call">
            <summary>
              {c.step} · {c.kind === 'step_error' ? 'step error' : c.model}
            </summary>
            {c.messages.map((m, k) => (
              <div key={k} className="prompt-msg">
                <div className="prompt-role">{m.role}</div>
                <div className="prompt-content">{m.content}</div>
              </div>
            ))}
          </details>
        ))
      ) : (
        <p className="hint">No model calls yet.</p>
      )}
    </>
  );
}
