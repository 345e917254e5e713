import { useState } from 'react';
import { describeError } from '../../api/errors';
import { useSteerNodeMutation } from '../../api/http';
import type { Node } from '../../api/types';
import { useLive } from '../live/LiveContext';

const ENDED = new Set(['done', 'failed', 'cancelled']);

/** Cancel a live node (and its subtree) or retry a failed or cancelled one; the change arrives as events. */
export default function NodeSteering({ swarmId, node }: { swarmId: string; node: Node }) {
  const [steer, { isLoading }] = useSteerNodeMutation();
  const [error, setError] = useState<string | null>(null);
  const live = useLive();
  const act = async (action: 'cancel' | 'retry') => {
    setError(null);
    try {
      await steer({ swarmId, nodeId: node.id, action }).unwrap();
      live?.wake(swarmId);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const ended = ENDED.has(node.lifecycle);
  const retryable = node.lifecycle === 'failed' || node.lifecycle === 'cancelled';
  if (ended && !retryable) return null;
  return (
    <div className="row node-steering">
      {!ended ? (
        <button type="button" disabled={isLoading} onClick={() => void act('cancel')}>
          Cancel node
        </button>
      ) : null}
      {retryable ? (
        <button type="button" disabled={isLoading} onClick={() => void act('retry')}>
          Retry node
        </button>
      ) : null}
      {node.attempt > 1 ? <span className="hint">attempt {node.attempt}</span> : null}
      {error ? (
        <span role="alert" className="failure">
          {error}
        </span>
      ) : null}
    </div>
  );
}
