// Drives the history slider: one seeker per swarm, seeks run one at a time and a newer request
// replaces a queued one (so dragging the slider never piles up work).
import { api } from '../../api/http';
import { describeError } from '../../api/errors';
import { deepFreeze } from '../../lib/freeze';
import type { AppDispatch, RootState } from '../../app/store';
import { scrubFailed, scrubLoading, scrubShown, scrubTo } from './scrubSlice';
import { HistorySeeker, type HistorySource } from './seeker';

const seekers = new Map<string, HistorySeeker>();

export function getSeeker(swarmId: string): HistorySeeker | undefined {
  return seekers.get(swarmId);
}

export function resetSeekers(): void {
  seekers.clear();
}

export function apiHistorySource(dispatch: AppDispatch, swarmId: string): HistorySource {
  return {
    stateAt: async (at) =>
      deepFreeze(await dispatch(api.endpoints.getState.initiate({ swarmId, at }, { subscribe: false, forceRefetch: true })).unwrap()),
    history: (after, limit) =>
      dispatch(api.endpoints.getHistory.initiate({ swarmId, after, limit }, { subscribe: false, forceRefetch: true })).unwrap(),
    firstSeq: async () =>
      (await dispatch(api.endpoints.getHistory.initiate({ swarmId, after: 0, limit: 1 }, { subscribe: false, forceRefetch: true })).unwrap())
        .first_seq,
  };
}

function seekerFor(dispatch: AppDispatch, swarmId: string): HistorySeeker {
  let s = seekers.get(swarmId);
  if (!s) {
    s = new HistorySeeker(swarmId, apiHistorySource(dispatch, swarmId));
    seekers.set(swarmId, s);
  }
  return s;
}

let running = false;
let queued: { swarmId: string; target: number } | null = null;

/** Show the state at `target`; resolves when this or a newer request has been shown. */
export function requestSeek(swarmId: string, target: number) {
  return async (dispatch: AppDispatch, getState: () => RootState): Promise<void> => {
    dispatch(scrubTo({ swarmId, target }));
    queued = { swarmId, target: getState().scrub.target };
    if (running) return;
    running = true;
    dispatch(scrubLoading(true));
    try {
      while (queued) {
        const q = queued;
        queued = null;
        const seeker = seekerFor(dispatch, q.swarmId);
        const scrub = getState().scrub;
        const current = scrub.swarmId === q.swarmId ? scrub.state : null;
        const state = await seeker.seek(q.target, current);
        dispatch(scrubShown({ swarmId: q.swarmId, state, minSeq: seeker.minSeq }));
      }
    } catch (e) {
      queued = null;
      dispatch(scrubFailed(`Could not load that point in the history. ${describeError(e)}`));
    } finally {
      running = false;
      dispatch(scrubLoading(false));
    }
  };
}
