import { createAction, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { User } from '../../api/types';

export type AuthStatus = 'unknown' | 'authenticated' | 'anonymous';

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** Set when the server rejected a session the app believed valid: the login page says so. */
  expired: boolean;
  /** The id of the last user who logged in during this page's life, to clear their data on a switch. */
  lastUserId: string | null;
  /** Why the first session check failed when it was not a plain "not logged in" (e.g. server down). */
  bootError: string | null;
  /** Set by an explicit logout: the login page then starts fresh instead of returning to the last page. */
  loggedOut: boolean;
}

const initialState: AuthState = { status: 'unknown', user: null, expired: false, lastUserId: null, bootError: null, loggedOut: false };

/** Every slice resets on this (logout, or a different user logging in). */
export const resetAll = createAction('app/resetAll');

const authSlice = createSlice({
  name: 'auth',
  initialState,
  reducers: {
    loggedIn(state, action: PayloadAction<User>) {
      state.status = 'authenticated';
      state.user = action.payload;
      state.expired = false;
      state.lastUserId = action.payload.id;
      state.bootError = null;
      state.loggedOut = false;
    },
    anonymous(state, action: PayloadAction<string | null | undefined>) {
      state.status = 'anonymous';
      state.user = null;
      state.bootError = action.payload ?? null;
    },
    sessionExpired(state) {
      if (state.status === 'authenticated') state.expired = true;
      state.status = 'anonymous';
      state.user = null;
    },
    loggedOut(state) {
      state.status = 'anonymous';
      state.user = null;
      state.expired = false;
      state.lastUserId = null;
      state.loggedOut = true;
    },
  },
});

export const { loggedIn, anonymous, sessionExpired, loggedOut } = authSlice.actions;
export default authSlice.reducer;
