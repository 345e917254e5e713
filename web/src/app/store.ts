import { combineReducers, configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { useDispatch, useSelector } from 'react-redux';
import { api } from '../api/http';
import auth from '../features/auth/authSlice';
import chat, { loadChatUi } from '../features/chat/chatSlice';
import connection from '../features/live/connectionSlice';
import live from '../features/live/liveSlice';
import scrub from '../features/history/scrubSlice';
import { makeListenerMiddleware } from './listeners';

export const rootReducer = combineReducers({
  [api.reducerPath]: api.reducer,
  auth,
  live,
  scrub,
  connection,
  chat,
});

export type RootState = ReturnType<typeof rootReducer>;

export function makeStore(preloaded?: Partial<RootState>) {
  const store = configureStore({
    reducer: rootReducer,
    preloadedState: { chat: loadChatUi(), ...preloaded },
    middleware: (getDefault) =>
      getDefault({
        // Swarm states can hold tens of thousands of nodes: the dev-only deep checks would dominate.
        immutableCheck: false,
        serializableCheck: false,
      })
        .prepend(makeListenerMiddleware())
        .concat(api.middleware),
  });
  setupListeners(store.dispatch);
  return store;
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
export const useAppDispatch = useDispatch.withTypes<AppDispatch>();
export const useAppSelector = useSelector.withTypes<RootState>();
