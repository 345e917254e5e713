import { Link } from 'react-router';
import { useGetSwarmQuery } from '../../api/http';

/** Where a fork came from: the origin's name as a link. */
export default function ForkOrigin({ swarmId, atSeq }: { swarmId: string; atSeq: number | null }) {
  const q = useGetSwarmQuery(swarmId);
  const origin = q.data;
  const how = atSeq === null ? 'cloned from ' : `forked at event ${atSeq.toLocaleString()} of `;
  if (origin) {
    return (
      <span data-testid="fork-origin">
        {how}
        <Link to={`/swarms/${origin.id}/chat`}>{origin.name}</Link>
      </span>
    );
  }
  return <span data-testid="fork-origin">{how}{q.isLoading ? '…' : 'a swarm that was deleted'}</span>;
}
