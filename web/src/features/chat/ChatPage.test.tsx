import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'react-redux';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventOf, SwarmHistory } from '../../api/types';
import fixture from '../../test/fixtures/fold-history.json';
import { emptyState, foldInPlace } from '../../fold/fold';
import { makeStore } from '../../app/store';
import { loggedIn } from '../auth/authSlice';
import { liveLoaded, liveLoading } from '../live/liveSlice';
import ChatPage from './ChatPage';

const history = fixture.history as unknown as SwarmHistory;
const id = history.swarm_id;
// The state just after the agent asked its first question.
const askedAt = history.events.find((e) => e.type === 'chat_updated' && e.data.changes.status === 'awaiting_user')!.seq;
const state = foldInPlace(emptyState(id), history.events.filter((e) => e.seq <= askedAt));
const chat = Object.values(state.chats).find((c) => c.status === 'awaiting_user')!;
const question = history.events.find((e): e is EventOf<'message_posted'> => e.type === 'message_posted')!.data.message;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function renderChat(post: (body: { content: string }) => Response, gate: Promise<void> = Promise.resolve()) {
  const fetchMock = vi.fn(async (input: Request) => {
    const url = new URL(input.url);
    if (url.pathname.endsWith('/messages') && input.method === 'POST') {
      const body = (await input.json()) as { content: string };
      await gate;
      return post(body);
    }
    if (url.pathname.endsWith('/messages')) return json([question]);
    return json({ detail: 'not found' }, 404);
  });
  vi.stubGlobal('fetch', fetchMock);
  const store = makeStore();
  store.dispatch(loggedIn({ id: 'u1', username: 'u', created_at: '2026-01-01T00:00:00Z' }));
  store.dispatch(liveLoading(id));
  store.dispatch(liveLoaded({ swarmId: id, state }));
  render(
    <Provider store={store}>
      <MemoryRouter initialEntries={[`/swarms/${id}/chat/${chat.id}`]}>
        <Routes>
          <Route path="/swarms/:swarmId/chat/:chatId" element={<ChatPage />} />
        </Routes>
      </MemoryRouter>
    </Provider>,
  );
  return { store, fetchMock };
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
