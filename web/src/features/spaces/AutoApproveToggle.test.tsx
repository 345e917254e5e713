import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActionInfo, SwarmState } from '../../api/types';
import { emptyState } from '../../fold/fold';
import ActionDetail from './ActionDetail';
import AutoApproveToggle from './AutoApproveToggle';

afterEach(cleanup);

const NAME = 'Approve fs.write_file automatically in this swarm';
const toggle = () => screen.getByRole('switch', { name: NAME }) as HTMLInputElement;

const writeFile = (approval: ActionInfo['approval']): ActionInfo =>
  ({
    id: 'fs.write_file',
    description: 'Write a file',
    origin: 'mcp',
    server: 'fs',
    action_type: 'do',
    approval,
    read_only: false,
    idempotent: false,
    routable: true,
    input_schema: { type: 'object', properties: {} },
  }) as unknown as ActionInfo;

const withSwitch = (covered: string[]): SwarmState => ({ ...emptyState('s1'), auto_approve: covered });

describe('AutoApproveToggle', () => {
  it('shows the swarm’s switch for the tool and turns it on and off', async () => {
    const onChange = vi.fn();
    const { rerender } = render(<AutoApproveToggle tool="fs.write_file" covered={[]} past={false} busy={false} onChange={onChange} />);
    expect(toggle().checked).toBe(false);
    await userEvent.click(toggle());
    expect(onChange.mock.calls).toEqual([[true]]);
    rerender(<AutoApproveToggle tool="fs.write_file" covered={['fs.write_file']} past={false} busy={false} onChange={onChange} />);
    expect(toggle().checked).toBe(true);
    await userEvent.click(toggle());
    expect(onChange.mock.calls).toEqual([[true], [false]]);
  });

  it('shows every tool covered by * as on, and cannot change it there or in the past', () => {
    render(<AutoApproveToggle tool="fs.write_file" covered={['*']} past={false} busy={false} onChange={() => {}} />);
    expect(toggle().checked).toBe(true);
    expect(toggle().disabled).toBe(true);
    expect(screen.getByText(/Every tool is approved automatically/).textContent).toContain('--off');
    cleanup();
    render(<AutoApproveToggle tool="fs.write_file" covered={['fs.write_file']} past busy={false} onChange={() => {}} />);
    expect(toggle().checked).toBe(true);
    expect(toggle().disabled).toBe(true);
  });

  it('is offered in the action detail only for a tool the operator asks about', async () => {
    const onAutoApprove = vi.fn();
    const detail = (approval: ActionInfo['approval'], state: SwarmState) => (
      <MemoryRouter>
        <ActionDetail swarmId="s1" action={writeFile(approval)} folder="fs" nodes={[]} state={state} at={null} onAutoApprove={onAutoApprove} />
      </MemoryRouter>
    );
    const { rerender } = render(detail('ask', withSwitch(['fs.write_file'])));
    expect(toggle().checked).toBe(true);
    await userEvent.click(toggle());
    expect(onAutoApprove.mock.calls).toEqual([[false]]);
    rerender(detail('auto', withSwitch([])));
    expect(screen.queryByRole('switch')).toBeNull();
    expect(screen.queryByTestId('deny-hint')).toBeNull();
    rerender(detail('deny', withSwitch(['*'])));
    expect(screen.queryByRole('switch')).toBeNull();
    expect(screen.getByTestId('deny-hint').textContent).toContain('cannot be approved automatically');
  });
});
