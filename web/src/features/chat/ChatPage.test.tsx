import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chat, json, mountChatPage, question } from './chatTestBed';

function renderChat(post: (body: { content: string }) => Response, gate: Promise<void> = Promise.resolve()) {
  return mountChatPage(async (input) => {
    const body = (await input.json()) as { content: string };
    await gate;
    return post(body);
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('chat page', () => {
  it('lists chats waiting on you first and shows the question', async () => {
    renderChat(() => json({}, 500));
    const waiting = screen.getByRole('region', { name: 'Waiting on you' });
    expect(within(waiting).getByText(chat.title)).toBeTruthy();
    await screen.findByText(/I need your input on this/);
  });

  it('Shift+Enter adds a line, Enter sends; the message shows at once as pending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    renderChat((b) => {
      sent.push(b.content);
      return json({ ...question, id: 'm-user', index: 1, role: 'user', content: b.content });
    }, gate);
    const user = userEvent.setup();
    const box = await screen.findByLabelText('Your reply');
    await user.type(box, 'blue{Shift>}{Enter}{/Shift}sky');
    expect((box as HTMLTextAreaElement).value).toBe('blue\nsky');
    await user.type(box, '{Enter}');
    const pending = await screen.findByTestId('pending-message');
    expect(pending.getAttribute('data-status')).toBe('sending');
    expect(within(pending).getByText('Sending…')).toBeTruthy();
    expect((box as HTMLTextAreaElement).value).toBe('');
    release();
    await waitFor(() => expect(sent).toEqual(['blue\nsky']));
    await waitFor(() => expect(screen.queryByTestId('pending-message')).toBeNull());
    expect(screen.getAllByTestId('message')).toHaveLength(2);
  });

  it('a failed send stays with its reason and can be retried', async () => {
    let fail = true;
    renderChat((b) => {
      if (fail) {
        fail = false;
        return json({ detail: 'chat c.n.1 is not awaiting a reply' }, 409);
      }
      return json({ ...question, id: 'm-user', index: 1, role: 'user', content: b.content });
    });
    const user = userEvent.setup();
    const box = await screen.findByLabelText('Your reply');
    await user.type(box, 'green{Enter}');
    const pending = await screen.findByTestId('pending-message');
    await waitFor(() => expect(pending.getAttribute('data-status')).toBe('failed'));
    expect(within(pending).getByRole('alert').textContent).toBe('The agent is no longer waiting for a reply here.');
    await user.click(within(pending).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('pending-message')).toBeNull());
  });
});
