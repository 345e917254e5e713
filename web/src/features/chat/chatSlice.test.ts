import { beforeEach, describe, expect, it } from 'vitest';
import { makeStore } from '../../app/store';
import { loggedIn, loggedOut, resetAll } from '../auth/authSlice';
import { chatSeen, seenKey } from './chatSlice';

const alice = { id: 'u-alice', username: 'alice', created_at: '2026-01-01T00:00:00Z' };
const bob = { id: 'u-bob', username: 'bob', created_at: '2026-01-01T00:00:00Z' };

describe('what a user has seen in chats', () => {
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
  });

  it('survives logging out and in again (no unread dots come back), and stays with its user', () => {
    const store = makeStore();
    store.dispatch(loggedIn(alice));
    store.dispatch(chatSeen({ swarmId: 's1', chatId: 'chat-n.1', count: 3 }));
    // Log out as AppShell does: every slice resets, then the user is gone.
    store.dispatch(resetAll());
    store.dispatch(loggedOut());
    expect(store.getState().chat.seen).toEqual({});
    store.dispatch(loggedIn(bob));
    expect(store.getState().chat.seen[seenKey('s1', 'chat-n.1')]).toBeUndefined();
    store.dispatch(resetAll());
    store.dispatch(loggedOut());
    // A new page load, then alice logs in again.
    const again = makeStore();
    again.dispatch(loggedIn(alice));
    expect(again.getState().chat.seen[seenKey('s1', 'chat-n.1')]).toBe(3);
  });

  it('keeps chats of different swarms apart (every swarm has a chat-n)', () => {
    const store = makeStore();
    store.dispatch(loggedIn(alice));
    store.dispatch(chatSeen({ swarmId: 's1', chatId: 'chat-n', count: 5 }));
    expect(store.getState().chat.seen[seenKey('s1', 'chat-n')]).toBe(5);
    expect(store.getState().chat.seen[seenKey('s2', 'chat-n')]).toBeUndefined();
  });
});
