import { Link } from 'react-router';
import type { MemoryFile, SwarmState } from '../../api/types';

export default function Writer({ swarmId, file, state }: { swarmId: string; file: MemoryFile; state: SwarmState | null }) {
  if (!file.node_id) return <>You (an upload)</>;
  const node = state?.nodes[file.node_id];
  return (
    <>
      <Link to={`/swarms/${swarmId}/tree?node=${encodeURIComponent(file.node_id)}`} data-testid="writer-link">
        {node?.title ?? file.node_id}
      </Link>{' '}
      <code className="hint">{file.node_id}</code>
    </>
  );
}
