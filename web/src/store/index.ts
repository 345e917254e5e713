import { combineReducers, configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { useDispatch, useSelector } from 'react-redux';
import { api } from '../api/http';
import auth from './authSlice';
import chat, { loadChatUi, saveChatUi } from './chatSlice';
import connection from './connectionSlice';
import live from './liveSlice';
import scrub from './scrubSlice';

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
      }).concat(api.middleware),
  });
  setupListeners(store.dispatch);
  let lastChat = store.getState().chat;
  store.subscribe(() => {
    const c = store.getState().chat;
    if (c !== lastChat) {
      lastChat = c;
      saveChatUi(c);
    }
  });
  return store;
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
export const useAppDispatch = useDispatch.withTypes<AppDispatch>();
export const useAppSelector = useSelector.withTypes<RootState>();
