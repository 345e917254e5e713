import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ApprovalBar, { decisionFor, decisionReply, pendingTool } from './ApprovalBar';

afterEach(cleanup);

const waiting = (next_step: string, context: Record<string, unknown> = {}) => ({
  continuation: { node_id: 'n.1', kind: 'user' as const, request: {}, context, next_step, token: 't', created_at: '2026-12-01T00:00:00Z' },
});

describe('ApprovalBar', () => {
  it('knows a tool approval and an interrupted call from the step the node resumes', () => {
    expect(decisionFor(waiting('tools.on_approval'))).toBe('approval');
    expect(decisionFor(waiting('tool.on_approval'))).toBe('approval');
    expect(decisionFor(waiting('tool.on_rerun'))).toBe('rerun');
    expect(decisionFor(waiting('ask.on_reply'))).toBeNull();
    expect(decisionFor({ continuation: null })).toBeNull();
    expect(decisionFor(undefined)).toBeNull();
  });

  it('sends yes, or no with the reason given', async () => {
    expect(decisionReply(true, 'ignored')).toBe('yes');
    expect(decisionReply(false, '  ')).toBe('no');
    expect(decisionReply(false, 'not that file')).toBe('no, not that file');
    const onDecide = vi.fn();
    render(<ApprovalBar kind="approval" disabled={false} onDecide={onDecide} />);
    await userEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await userEvent.type(screen.getByLabelText('Reason for a denial (optional)'), 'too risky');
    await userEvent.click(screen.getByRole('button', { name: 'Deny' }));
    expect(onDecide.mock.calls).toEqual([['yes'], ['no, too risky']]);
  });

  it('offers to run an interrupted call again, and disables both while a reply is sent', () => {
    render(<ApprovalBar kind="rerun" disabled onDecide={() => {}} />);
    expect((screen.getByRole('button', { name: 'Run it again' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: "Don't run it" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByLabelText('Reason for a denial (optional)')).toBeNull();
  });

  it('reads the tool waiting for approval from either tool step', () => {
    expect(pendingTool(waiting('tool.on_approval', { server: 'fs', name: 'write_file' }))).toBe('fs.write_file');
    const loop = { current: { id: 'c1', name: 'fs__write_file' }, functions: { fs__write_file: 'fs.write_file' } };
    expect(pendingTool(waiting('tools.on_approval', loop))).toBe('fs.write_file');
    expect(pendingTool(waiting('ask.on_reply'))).toBeNull();
    expect(pendingTool(undefined)).toBeNull();
  });

  it('approves the tool automatically in this swarm when the box is ticked', async () => {
    const onDecide = vi.fn();
    const onAutoApprove = vi.fn();
    render(<ApprovalBar kind="approval" disabled={false} onDecide={onDecide} tool="fs.write_file" onAutoApprove={onAutoApprove} />);
    const box = screen.getByRole('checkbox', { name: 'Approve fs.write_file automatically in this swarm' });
    await userEvent.click(screen.getByRole('button', { name: 'Approve' })); // unticked: this call only
    await userEvent.click(box);
    await userEvent.click(screen.getByRole('button', { name: 'Approve' }));
    expect(onDecide.mock.calls).toEqual([['yes']]);
    expect(onAutoApprove.mock.calls).toEqual([['fs.write_file']]);
  });

  it('offers no checkbox without a tool, or for an interrupted call', () => {
    render(<ApprovalBar kind="rerun" disabled={false} onDecide={() => {}} tool="fs.write_file" onAutoApprove={() => {}} />);
    expect(screen.queryByRole('checkbox')).toBeNull();
    cleanup();
    render(<ApprovalBar kind="approval" disabled={false} onDecide={() => {}} tool={null} onAutoApprove={() => {}} />);
    expect(screen.queryByRole('checkbox')).toBeNull();
  });
});
