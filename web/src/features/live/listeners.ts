// What else an applied batch of events changes (from the socket or a catch-up): the caches that show the same
// facts elsewhere, i.e. the swarm list's status badges and an open chat's messages.
import { addMessageToCache, patchSwarmCaches } from '../../api/http';
import type { AppStartListening } from '../../app/listeners';
import { resetAll } from '../auth/authSlice';
import { eventsReceived } from './liveSlice';

export function startLiveListeners(startListening: AppStartListening): void {
  /** The seq of the newest `swarm_status` event applied to the caches, per swarm (a replayed one is older). */
  const statusSeq = new Map<string, number>();
  startListening({ actionCreator: resetAll, effect: () => statusSeq.clear() });
  startListening({
    actionCreator: eventsReceived,
    effect: ({ payload: { swarmId, events } }, { dispatch }) => {
      for (const ev of events) {
        if (ev.type === 'swarm_status') {
          if (ev.seq > (statusSeq.get(swarmId) ?? 0)) {
            statusSeq.set(swarmId, ev.seq);
            patchSwarmCaches(dispatch, swarmId, { status: ev.data.status, failure_reason: ev.data.reason ?? null });
          }
        } else if (ev.type === 'message_posted') {
          addMessageToCache(dispatch, swarmId, ev.data.message);
        }
      }
    },
  });
}
