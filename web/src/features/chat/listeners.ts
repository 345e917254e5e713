// The chat UI survives a reload (pending sends, drafts: sessionStorage) and what a user has seen stays with that
// user in this browser (localStorage), so unread dots do not come back after logging in again.
import type { AppStartListening } from '../../app/listeners';
import { loadSeen, saveChatUi, saveSeen, seenLoaded } from './chatSlice';

export function startChatListeners(startListening: AppStartListening): void {
  startListening({
    predicate: (_action, state, before) => state.auth.user?.id !== before.auth.user?.id,
    effect: (_action, { dispatch, getState }) => {
      const userId = getState().auth.user?.id;
      if (userId) dispatch(seenLoaded(loadSeen(userId)));
    },
  });
  startListening({
    predicate: (_action, state, before) => state.chat !== before.chat,
    effect: (_action, { getState, getOriginalState }) => {
      const { chat, auth } = getState();
      saveChatUi(chat);
      if (auth.user && chat.seen !== getOriginalState().chat.seen) saveSeen(auth.user.id, chat.seen);
    },
  });
}
