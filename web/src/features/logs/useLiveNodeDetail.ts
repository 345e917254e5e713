import { useEffect, useRef, useState } from 'react';
import { useAppSelector } from '../../app/store';
import { useNodeDetailQuery } from '../../api/http';

/** How long the history point must stay put before the node's past detail is fetched (while playing or
 * dragging the slider, most points are passed in a fraction of a second). */
const SETTLE_MS = 200;

/**
 * A node's detail (journal, developer log, report): now, refetched shortly after live events touch the node;
 * or, with `at`, as it was at that seq of the history (which never changes, so it is not refetched).
 */
export function useLiveNodeDetail(swarmId: string, nodeId: string, at?: number) {
  const settledAt = useSettled(at, SETTLE_MS);
  const rev = useAppSelector((s) => s.live.swarms[swarmId]?.nodeRev[nodeId] ?? 0);
  const q = useNodeDetailQuery({ swarmId, nodeId, at: settledAt });
  const { refetch } = q;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    if (settledAt !== undefined) return undefined;
    const t = setTimeout(() => void refetch(), 250);
    return () => clearTimeout(t);
  }, [rev, refetch, settledAt]);
  return q;
}

/** `value`, once it has not changed for `ms` (undefined, "now", at once). */
function useSettled(value: number | undefined, ms: number): number | undefined {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    if (value === undefined) return undefined;
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return value === undefined ? undefined : settled;
}
