import { useEffect, useRef } from 'react';
import { useAppSelector } from '../store';
import { useNodeDetailQuery } from './http';

/** A node's detail (journal, developer log, report), refetched shortly after live events touch the node. */
export function useLiveNodeDetail(swarmId: string, nodeId: string) {
  const rev = useAppSelector((s) => s.live.swarms[swarmId]?.nodeRev[nodeId] ?? 0);
  const q = useNodeDetailQuery({ swarmId, nodeId });
  const { refetch } = q;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    const t = setTimeout(() => void refetch(), 250);
    return () => clearTimeout(t);
  }, [rev, refetch]);
  return q;
}
