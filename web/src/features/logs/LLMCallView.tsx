import type { LLMCall } from '../../api/types';
import { formatCost, formatMs, formatTime } from '../../lib/format';
import StepErrorView from './StepErrorView';

export default function LLMCallView({ c }: { c: LLMCall }) {
  if (c.kind === 'step_error') return <StepErrorView c={c} />;
  return (
    <details className="llm-call" data-testid="llm-call">
      <summary>
        <span className="llm-step">{c.step}</span>
        <span className="llm-meta">
          {c.model} · {c.tokens_in.toLocaleString()} in / {c.tokens_out.toLocaleString()} out · {formatMs(c.latency_ms)} ·{' '}
          {formatCost(c.cost_usd)}
          {c.attempts > 1 ? ` · ${c.attempts} tries` : ''}
          {c.attempt != null ? ` · attempt ${c.attempt}` : ''}
          {c.replan ? ` · re-plan ${c.replan}` : ''}
        </span>
        {c.error ? <span className="failure"> · error</span> : null}
      </summary>
      <dl className="facts">
        <dt>Model</dt>
        <dd>{c.model}</dd>
        <dt>Tokens</dt>
        <dd>
          {c.tokens_in.toLocaleString()} in, {c.tokens_out.toLocaleString()} out
        </dd>
        <dt>Latency</dt>
        <dd>{formatMs(c.latency_ms)}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(c.cost_usd)}</dd>
        <dt>When</dt>
        <dd>{formatTime(c.created_at)}</dd>
      </dl>
      <h4>Prompt</h4>
      {c.messages.map((m, k) => (
        <div key={k} className="prompt-msg">
          <div className="prompt-role">{m.role}</div>
          <div className="prompt-content">{m.content}</div>
        </div>
      ))}
      <h4>Output</h4>
      {c.raw_output ? <pre className="output">{c.raw_output}</pre> : <p className="hint">No output.</p>}
      {c.error ? (
        <>
          <h4>Error</h4>
          <p className="failure">{c.error}</p>
        </>
      ) : null}
    </details>
  );
}
