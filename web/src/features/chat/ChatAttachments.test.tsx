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
const askedAt = history.events.find((e) => e.type === 'chat_updated' && e.data.changes.status === 'awaiting_user')!.seq;
const state = foldInPlace(emptyState(id), history.events.filter((e) => e.seq <= askedAt));
const chat = Object.values(state.chats).find((c) => c.status === 'awaiting_user')!;
const question = history.events.find((e): e is EventOf<'message_posted'> => e.type === 'message_posted')!.data.message;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function renderChat(onPost: (form: FormData | null, text: string) => Response) {
  const fetchMock = vi.fn(async (input: Request) => {
    const url = new URL(input.url);
    if (url.pathname.endsWith('/messages') && input.method === 'POST') {
      const multipart = (input.headers.get('content-type') ?? '').startsWith('multipart/form-data');
      return multipart ? onPost(await input.formData(), '') : onPost(null, await input.text());
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
  return fetchMock;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('attaching files in the chat', () => {
  it('picks files, removes one, sends the rest as multipart and shows what the server stored', async () => {
    // (jsdom's File loses its name and bytes on the way through undici's Request, so the parts are told apart by
    // their types here; the end-to-end test in Chromium checks the bytes)
    const sent: { content: FormDataEntryValue | null; files: string[] }[] = [];
    renderChat((form) => {
      sent.push({ content: form?.get('content') ?? null, files: (form?.getAll('file') as File[] | undefined)?.map((f) => f.type) ?? [] });
      return json({
        ...question, id: 'm-user', index: 1, role: 'user', content: 'see these',
        attachments: [{ path: 'uploads/a.png', name: 'a.png', content_type: 'image/png', size: 3, sha256: 'c'.repeat(64), seq: 12 }],
      });
    });
    const user = userEvent.setup();
    await screen.findByLabelText('Your reply');
    const input = screen.getByTestId('attach-input') as HTMLInputElement;
    await user.upload(input, [new File(['png'], 'a.png', { type: 'image/png' }), new File(['t'], 'b.txt', { type: 'text/plain' })]);
    const picked = screen.getAllByTestId('picked-file');
    expect(picked.map((p) => p.textContent)).toEqual([expect.stringContaining('a.png'), expect.stringContaining('b.txt')]);
    await user.click(screen.getByRole('button', { name: 'Remove b.txt' }));
    expect(screen.getAllByTestId('picked-file')).toHaveLength(1);
    await user.type(screen.getByLabelText('Your reply'), 'see these{Enter}');
    await waitFor(() => expect(sent).toEqual([{ content: 'see these', files: ['image/png'] }]));
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(2));
    const mine = screen.getAllByTestId('message')[1]!;
    expect(within(mine).getByRole('img', { name: 'a.png' }).getAttribute('src')).toContain('uploads/a.png?at=12');
    expect(screen.queryByTestId('picked-file')).toBeNull();
  });

  it('sends files alone (no text); a refused file keeps the message for a retry with its files', async () => {
    let refuse = true;
    const calls: string[][] = [];
    renderChat((form) => {
      calls.push((form?.getAll('file') as File[] | undefined)?.map((f) => f.type) ?? []);
      if (refuse) {
        refuse = false;
        return json({ detail: "'x.txt' is over the limit of 10 bytes a file" }, 413);
      }
      return json({ ...question, id: 'm-user', index: 1, role: 'user', content: '', attachments: [] });
    });
    const user = userEvent.setup();
    await screen.findByLabelText('Your reply');
    const send = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await user.upload(screen.getByTestId('attach-input') as HTMLInputElement, new File(['0123456789abc'], 'x.txt', { type: 'text/plain' }));
    expect(send.disabled).toBe(false);
    await user.click(send);
    const pending = await screen.findByTestId('pending-message');
    await waitFor(() => expect(pending.getAttribute('data-status')).toBe('failed'));
    expect(within(pending).getByRole('alert').textContent).toContain('over the limit');
    expect(pending.textContent).toContain('Files: x.txt');
    await user.click(within(pending).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('pending-message')).toBeNull());
    expect(calls).toEqual([['text/plain'], ['text/plain']]);
  });
});
