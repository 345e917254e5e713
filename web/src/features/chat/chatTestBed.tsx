// The chat page mounted on a store holding the fold fixture just after the agent asked its first question, with
// fetch answering the chat's messages; shared by the chat page's tests.
import { render } from '@testing-library/react';
import { Provider } from 'react-redux';
import { MemoryRouter, Route, Routes } from 'react-router';
import { vi } from 'vitest';
import type { EventOf, SwarmHistory } from '../../api/types';
import fixture from '../../test/fixtures/fold-history.json';
import { emptyState, foldInPlace } from '../../fold/fold';
import { makeStore } from '../../app/store';
import { loggedIn } from '../auth/authSlice';
import { liveLoaded, liveLoading } from '../live/liveSlice';
import ChatPage from './ChatPage';

const history = fixture.history as unknown as SwarmHistory;
const id = history.swarm_id;
const askedAt = history.events.find((e) => e.type === 'chat_updated' && e.data.changes.status === 'awaiting_user')!.seq;
const state = foldInPlace(emptyState(id), history.events.filter((e) => e.seq <= askedAt));
/** The chat waiting on the person, and the question it asked. */
export const chat = Object.values(state.chats).find((c) => c.status === 'awaiting_user')!;
export const question = history.events.find((e): e is EventOf<'message_posted'> => e.type === 'message_posted')!
  .data.message;

export function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Mounts the chat page; ``onPost`` answers a message the page posts, anything else gets the question or a 404. */
export function mountChatPage(onPost: (request: Request) => Promise<Response>) {
  const fetchMock = vi.fn(async (input: Request) => {
    const url = new URL(input.url);
    if (url.pathname.endsWith('/messages') && input.method === 'POST') return onPost(input);
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
