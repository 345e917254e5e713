import type { LLMCall } from '../../api/types';
import { formatTime } from '../../lib/format';

/** A step that raised, as its developer-log entry: the reason the node failed, and the traceback to open. */
export default function StepErrorView({ c }: { c: LLMCall }) {
  return (
    <details className="llm-call step-error" data-testid="step-error">
      <summary>
        <span className="llm-step">{c.step}</span>
        <span className="failure"> · step error</span>
        {c.attempt != null ? <span className="llm-meta"> · attempt {c.attempt}</span> : null}
      </summary>
      {c.error ? <p className="failure">{c.error}</p> : null}
      <dl className="facts">
        <dt>When</dt>
        <dd>{formatTime(c.created_at)}</dd>
      </dl>
      <h4>Traceback</h4>
      {c.raw_output ? <pre className="output">{c.raw_output}</pre> : <p className="hint">No traceback.</p>}
    </details>
  );
}
