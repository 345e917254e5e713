// The history slider's state: which swarm, live or history mode, the requested and shown seq, and the
// state shown (from the seeker: a snapshot folded forward through the shared reducer).
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { SwarmState } from '../../api/types';
import { resetAll } from '../auth/authSlice';

export interface ScrubState {
  swarmId: string | null;
  mode: 'live' | 'history';
  /** The seq the user asked for (the slider's value). */
  target: number;
  /** The state on screen while in history mode, and its seq. */
  state: SwarmState | null;
  shownSeq: number;
  minSeq: number;
  playing: boolean;
  /** Events per second while playing. */
  speed: number;
  loading: boolean;
  error: string | null;
}

const initialState: ScrubState = {
  swarmId: null,
  mode: 'live',
  target: 0,
  state: null,
  shownSeq: 0,
  minSeq: 0,
  playing: false,
  speed: 4,
  loading: false,
  error: null,
};

const slice = createSlice({
  name: 'scrub',
  initialState,
  reducers: {
    scrubTo(s, { payload }: PayloadAction<{ swarmId: string; target: number }>) {
      if (s.swarmId !== payload.swarmId) {
        Object.assign(s, initialState, { swarmId: payload.swarmId });
      }
      s.mode = 'history';
      s.target = Math.max(s.minSeq, payload.target);
      s.error = null;
    },
    scrubLoading(s, { payload }: PayloadAction<boolean>) {
      s.loading = payload;
    },
    scrubShown(s, { payload }: PayloadAction<{ swarmId: string; state: SwarmState; minSeq: number }>) {
      if (s.swarmId !== payload.swarmId || s.mode !== 'history') return;
      s.state = payload.state;
      s.shownSeq = payload.state.seq;
      s.minSeq = payload.minSeq;
    },
    scrubFailed(s, { payload }: PayloadAction<string>) {
      s.error = payload;
      s.loading = false;
      s.playing = false;
    },
    playing(s, { payload }: PayloadAction<boolean>) {
      s.playing = payload;
    },
    speedChanged(s, { payload }: PayloadAction<number>) {
      s.speed = payload;
    },
    backToLive(s) {
      s.mode = 'live';
      s.playing = false;
      s.state = null;
      s.loading = false;
      s.error = null;
    },
  },
  extraReducers: (b) => b.addCase(resetAll, () => initialState),
});

export const { scrubTo, scrubLoading, scrubShown, scrubFailed, playing, speedChanged, backToLive } = slice.actions;
export default slice.reducer;
