import { createSelector } from '@reduxjs/toolkit';
import type { ChatSummary, SwarmState } from '../../api/types';
import { naturalCompare } from '../../lib/format';
import type { RootState } from '../../app/store';

/** The state to show for a swarm: the history slider's while scrubbing, else the live one. */
export function selectViewState(s: RootState, swarmId: string): SwarmState | null {
  const scrub = s.scrub;
  if (scrub.mode === 'history' && scrub.swarmId === swarmId && scrub.state) return scrub.state;
  return s.live.swarms[swarmId]?.state ?? null;
}

export function selectIsHistory(s: RootState, swarmId: string): boolean {
  return s.scrub.mode === 'history' && s.scrub.swarmId === swarmId;
}

const RANK: Record<ChatSummary['status'], number> = { awaiting_user: 0, open: 1, closed: 2, idle: 3 };

/**
 * The chats that have started, in the order a person should look at them: waiting on you (longest
 * waiting first), then open, then closed. Idle chats (most nodes never talk) are left out before sorting.
 */
export function orderChats(chats: Record<string, ChatSummary> | undefined): ChatSummary[] {
  if (!chats) return [];
  const out: ChatSummary[] = [];
  for (const id in chats) {
    const c = chats[id]!;
    if (c.status !== 'idle') out.push(c);
  }
  return out.sort((a, b) => {
    const r = RANK[a.status] - RANK[b.status];
    if (r) return r;
    if (a.status === 'awaiting_user' && a.awaiting_since && b.awaiting_since && a.awaiting_since !== b.awaiting_since) {
      return a.awaiting_since < b.awaiting_since ? -1 : 1;
    }
    return naturalCompare(a.id, b.id);
  });
}

export const selectOrderedChats = createSelector(
  [(state: SwarmState | null) => state?.chats],
  (chats) => orderChats(chats),
);

export function lifecycleCounts(state: SwarmState | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!state) return out;
  for (const id in state.nodes) {
    const l = state.nodes[id]!.lifecycle;
    out[l] = (out[l] ?? 0) + 1;
  }
  return out;
}
