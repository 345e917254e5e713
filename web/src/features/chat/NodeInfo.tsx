import { useNavigate } from 'react-router';
import type { Node } from '../../api/types';
import NodeSteering from '../steering/NodeSteering';
import { LIFECYCLE_LABELS, ACTION_LABELS } from '../tree/glyphs';

interface NodeInfoProps {
  swarmId: string;
  node: Node | undefined;
  history: boolean;
  open: boolean;
  panelId: string;
  onToggle(): void;
}

export default function NodeInfo({ swarmId, node, history, open, panelId, onToggle }: NodeInfoProps) {
  const navigate = useNavigate();
  if (!node) return null;
  return (
    <div className="node-info">
      <div className="row">
        <button type="button" aria-expanded={open} aria-controls={panelId} onClick={onToggle}>
          {open ? 'Hide node info' : 'Node info'}
        </button>
        <button type="button" onClick={() => navigate(`/swarms/${swarmId}/tree?node=${encodeURIComponent(node.id)}`)}>
          Show in tree
        </button>
        <span className="hint">
          {ACTION_LABELS[node.action_type]} · {LIFECYCLE_LABELS[node.lifecycle]}
        </span>
      </div>
      {history ? null : <NodeSteering swarmId={swarmId} node={node} />}
    </div>
  );
}
