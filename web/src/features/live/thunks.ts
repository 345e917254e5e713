import { api } from '../../api/http';
import { describeError } from '../../api/errors';
import { deepFreeze } from '../../lib/freeze';
import type { AppDispatch, RootState } from '../../app/store';
import { eventsReceived, liveFailed, liveLoaded, liveLoading } from './liveSlice';

export const CATCH_UP_PAGE = 1000;

/** GET state for a swarm being viewed; events that arrive meanwhile are buffered and folded after. */
export function loadLive(swarmId: string) {
  return async (dispatch: AppDispatch): Promise<void> => {
    dispatch(liveLoading(swarmId));
    try {
      const state = await dispatch(
        api.endpoints.getState.initiate({ swarmId }, { subscribe: false, forceRefetch: true }),
      ).unwrap();
      dispatch(liveLoaded({ swarmId, state: deepFreeze(state) }));
    } catch (e) {
      dispatch(liveFailed({ swarmId, error: describeError(e) }));
    }
  };
}

const inflight = new Map<string, { again: boolean; done: Promise<void> }>();

/**
 * Fetch `history?after=<last seq applied>` page by page until caught up. One at a time per swarm; a call
 * while one runs makes it go round once more. Duplicates are dropped by seq in the reducer.
 */
export function catchUp(swarmId: string) {
  return async (dispatch: AppDispatch, getState: () => RootState): Promise<void> => {
    const running = inflight.get(swarmId);
    if (running) {
      running.again = true;
      return running.done;
    }
    if (!getState().live.swarms[swarmId]?.state) return undefined; // not viewed (e.g. woken from the list)
    const flag = { again: true, done: Promise.resolve() };
    // Registered before the work starts: its `finally` must find (and remove) this entry.
    inflight.set(swarmId, flag);
    const work = (async () => {
      try {
        while (flag.again) {
          flag.again = false;
          for (let guard = 0; guard < 10_000; guard++) {
            const st = getState().live.swarms[swarmId]?.state;
            if (!st) return;
            const h = await dispatch(
              api.endpoints.getHistory.initiate(
                { swarmId, after: st.seq, limit: CATCH_UP_PAGE },
                { subscribe: false, forceRefetch: true },
              ),
            ).unwrap();
            if (h.events.length) dispatch(eventsReceived({ swarmId, events: h.events, authoritative: true }));
            const now = getState().live.swarms[swarmId]?.state?.seq ?? 0;
            if (h.events.length < CATCH_UP_PAGE || now >= h.last_seq) break;
          }
        }
      } catch {
        /* the connection manager retries on the next connect or gap */
      } finally {
        inflight.delete(swarmId);
      }
    })();
    flag.done = work;
    return work;
  };
}
