// Drives the history slider: one seeker per swarm; seeks run one at a time and a newer request replaces a queued
// one (so dragging the slider never piles up work). A seek starts with `scrubTo`; events that arrive live go to
// the swarm's seeker too, so scrubbing near the end needs no fetch.
import { api } from '../../api/http';
import { describeError } from '../../api/errors';
import type { AppStartListening, ListenerDispatch } from '../../app/listeners';
import { deepFreeze } from '../../lib/freeze';
import { resetAll } from '../auth/authSlice';
import { eventsReceived } from '../live/liveSlice';
import { scrubFailed, scrubLoading, scrubShown, scrubTo } from './scrubSlice';
import { HistorySeeker, type HistorySource } from './seeker';

export function apiHistorySource(dispatch: ListenerDispatch, swarmId: string): HistorySource {
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

export function startHistoryListeners(startListening: AppStartListening): void {
  const seekers = new Map<string, HistorySeeker>();
  let running = false;
  let queued: { swarmId: string; target: number } | null = null;

  startListening({
    actionCreator: resetAll,
    effect: () => {
      seekers.clear();
      queued = null;
    },
  });
  startListening({
    actionCreator: eventsReceived,
    effect: ({ payload }) => {
      if (payload.events.length) seekers.get(payload.swarmId)?.addEvents(payload.events);
    },
  });
  // Show the state at the requested seq (the slice has clamped it): this request, or a newer one queued meanwhile.
  startListening({
    actionCreator: scrubTo,
    effect: async ({ payload: { swarmId } }, { dispatch, getState }) => {
      queued = { swarmId, target: getState().scrub.target };
      if (running) return;
      running = true;
      dispatch(scrubLoading(true));
      try {
        while (queued) {
          const q = queued;
          queued = null;
          let seeker = seekers.get(q.swarmId);
          if (!seeker) {
            seeker = new HistorySeeker(q.swarmId, apiHistorySource(dispatch, q.swarmId));
            seekers.set(q.swarmId, seeker);
          }
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
    },
  });
}
