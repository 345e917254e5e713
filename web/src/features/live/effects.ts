// What happens when events arrive (from the socket or a catch-up): the live fold, plus the caches that
// show the same facts elsewhere (the swarm list's status badges, an open chat's messages, the slider's
// event cache).
import { addMessageToCache, patchSwarmCaches } from '../../api/http';
import type { Message, SwarmEvent, SwarmStatus } from '../../api/types';
import { getSeeker } from '../history/controller';
import type { AppDispatch } from '../../app/store';
import { eventsReceived } from './liveSlice';

const statusSeq = new Map<string, number>();

export function resetEffects(): void {
  statusSeq.clear();
}

export function ingestEvents(dispatch: AppDispatch, swarmId: string, events: SwarmEvent[], authoritative = false): void {
  if (!events.length) return;
  dispatch(eventsReceived({ swarmId, events, authoritative }));
  for (const ev of events) {
    if (ev.type === 'swarm_status') {
      if (ev.seq > (statusSeq.get(swarmId) ?? 0)) {
        statusSeq.set(swarmId, ev.seq);
        const data = ev.data as { status: SwarmStatus; reason?: string | null };
        patchSwarmCaches(dispatch, swarmId, { status: data.status, failure_reason: data.reason ?? null });
      }
    } else if (ev.type === 'message_posted') {
      addMessageToCache(dispatch, swarmId, (ev.data as { message: Message }).message);
    }
  }
  getSeeker(swarmId)?.addEvents(events);
}
