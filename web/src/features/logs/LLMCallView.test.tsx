import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { LLMCall } from '../../api/types';
import LLMCallView from './LLMCallView';

afterEach(cleanup);

const call = (over: Partial<LLMCall>): LLMCall => ({
  id: 'n.llm3', node_id: 'n', step: 'plan.on_review', kind: 'model_call', model: 'scripted-1', messages: [], raw_output: '{}',
  parsed_output: null, tokens_in: 10, tokens_out: 2, latency_ms: 1, cost_usd: 0, attempts: 1, attempt: 1, replan: 0,
  error: null, created_at: '2026-12-01T00:00:00Z', ...over,
});

describe('LLMCallView', () => {
  it('says which attempt and re-plan of the node made the call, and how many tries it took', () => {
    render(<LLMCallView c={call({ attempt: 2, replan: 1, attempts: 3 })} />);
    expect(screen.getByTestId('llm-call').textContent).toContain('3 tries · attempt 2 · re-plan 1');
  });

  it('leaves out a first plan, and the attempt of a call recorded before it was kept', () => {
    render(<LLMCallView c={call({ attempt: null, replan: null })} />);
    const text = screen.getByTestId('llm-call').textContent ?? '';
    expect(text).not.toContain('attempt');
    expect(text).not.toContain('re-plan');
  });

  it('shows a step error as one: its reason and traceback, no model, tokens or cost', () => {
    render(<LLMCallView c={call({ kind: 'step_error', model: '', raw_output: 'Traceback (most recent call last):\n  RuntimeError: kaboom', error: "Step 'boom.start' stopped on an unexpected error" })} />);
    expect(screen.queryByTestId('llm-call')).toBeNull();
    const text = screen.getByTestId('step-error').textContent ?? '';
    expect(text).toContain('step error');
    expect(text).toContain('RuntimeError: kaboom');
    expect(text).toContain("Step 'boom.start' stopped on an unexpected error");
    expect(text).not.toContain('Tokens');
    expect(text).not.toContain('Cost');
  });
});
