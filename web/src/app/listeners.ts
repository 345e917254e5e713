// The store's listener middleware (RTK's createListenerMiddleware): what happens *because of* an action. Each
// store has its own, so what the features keep per store (the history seekers, the last swarm status seen) lives
// in their listeners' closures, and one `resetAll` (a logout, or another user logging in) reaches all of it.
import {
  createListenerMiddleware,
  type ListenerMiddleware,
  type ThunkDispatch,
  type TypedStartListening,
  type UnknownAction,
} from '@reduxjs/toolkit';
import { api } from '../api/http';
import { resetAll } from '../features/auth/authSlice';
import { startChatListeners } from '../features/chat/listeners';
import { startHistoryListeners } from '../features/history/listeners';
import { startLiveListeners } from '../features/live/listeners';
import type { RootState } from './store';

/** The dispatch a listener gets: actions and thunks (not `AppDispatch`, whose type includes this middleware). */
export type ListenerDispatch = ThunkDispatch<RootState, unknown, UnknownAction>;
export type AppStartListening = TypedStartListening<RootState, ListenerDispatch>;

export function makeListenerMiddleware(): ListenerMiddleware<RootState, ListenerDispatch> {
  const listener = createListenerMiddleware<RootState, ListenerDispatch>();
  const startListening: AppStartListening = listener.startListening;
  // nothing of the previous user may remain in RTK Query's cache either
  startListening({ actionCreator: resetAll, effect: (_action, { dispatch }) => void dispatch(api.util.resetApiState()) });
  startLiveListeners(startListening);
  startHistoryListeners(startListening);
  startChatListeners(startListening);
  return listener.middleware;
}
