import { Link } from 'react-router';
import type { SwarmState } from '../../api/types';
import { selectOrderedChats } from '../history/selectors';

export default function ChatsAtPoint({ swarmId, state }: { swarmId: string; state: SwarmState | null }) {
  const chats = selectOrderedChats(state);
  return (
    <div className="side-section">
      <p className="hint">Click a glyph to see that node's developer log, journal and report.</p>
      <h2>Chats</h2>
      {chats.length ? (
        <ul className="mini-chats">
          {chats.slice(0, 50).map((c) => (
            <li key={c.id}>
              <Link to={`/swarms/${swarmId}/chat/${encodeURIComponent(c.id)}`}>{c.title}</Link>{' '}
              <span className={`chip chip-${c.status}`}>{c.status.replace('_', ' ')}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">No conversations at this point.</p>
      )}
    </div>
  );
}
