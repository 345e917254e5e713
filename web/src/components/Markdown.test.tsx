import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, expect, it, vi } from 'vitest';
import Markdown from './Markdown';

// A renderer that fails on one message (as a renderer bug or a failed chunk would), and works otherwise.
vi.mock('./MarkdownRenderer', () => ({
  default: ({ children }: { children: string }) => {
    if (children.includes('BAD')) throw new RangeError('Maximum call stack size exceeded');
    return <div className="md">rendered: {children}</div>;
  },
}));

afterEach(cleanup);

it('a message whose rendering throws shows as plain text with a note; the others render', async () => {
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
  render(
    <ol>
      <li data-testid="one">
        <Markdown>{'BAD **x**'}</Markdown>
      </li>
      <li data-testid="two">
        <Markdown>{'good'}</Markdown>
      </li>
    </ol>,
  );
  expect(await screen.findByText('rendered: good')).toBeTruthy();
  const one = screen.getByTestId('one');
  expect(one.querySelector('.md-plain')?.textContent).toBe('BAD **x**');
  expect(one.textContent).toContain('Shown as plain text');
  quiet.mockRestore();
});
