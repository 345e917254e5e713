import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { NoticeKind } from '../../api/types';
import { resetAll } from '../auth/authSlice';

/**
 * offline:      no socket wanted (nothing running is being viewed, or the server said paused/finished/idle)
 * connecting:   opening the socket
 * live:         connected and caught up
 * catching_up:  connected, fetching events missed while away
 * reconnecting: the socket dropped and is retrying
 * error:        the server refused the socket (retried in the background)
 */
export type ConnectionStatus = 'offline' | 'connecting' | 'live' | 'catching_up' | 'reconnecting' | 'error';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Why the socket is offline, from the last notice per swarm. */
  notices: Record<string, NoticeKind>;
  error: string | null;
}

const initialState: ConnectionState = { status: 'offline', notices: {}, error: null };

const slice = createSlice({
  name: 'connection',
  initialState,
  reducers: {
    connectionStatus(s, { payload }: PayloadAction<{ status: ConnectionStatus; error?: string | null }>) {
      s.status = payload.status;
      s.error = payload.error ?? null;
    },
    noticeReceived(s, { payload }: PayloadAction<{ swarmId: string; kind: NoticeKind }>) {
      s.notices[payload.swarmId] = payload.kind;
    },
    noticeCleared(s, { payload }: PayloadAction<string>) {
      delete s.notices[payload];
    },
  },
  extraReducers: (b) => b.addCase(resetAll, () => initialState),
});

export const { connectionStatus, noticeReceived, noticeCleared } = slice.actions;
export default slice.reducer;
