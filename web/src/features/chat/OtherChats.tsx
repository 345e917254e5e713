import { useId, useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { ChatSummary } from '../../api/types';
import { naturalCompare } from '../../lib/format';

const OTHERS_SHOWN = 50;

/** The chats of nodes that have not talked yet: any node's chat can be opened from here (found by name). */
export default function OtherChats({ swarmId, chats, count, activeId }: { swarmId: string; chats: Record<string, ChatSummary>; count: number; activeId?: string }) {
  const [q, setQ] = useState('');
  const uid = useId();
  const matches = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const out: ChatSummary[] = [];
    for (const c of Object.values(chats)) {
      if (c.status !== 'idle') continue;
      if (needle && !c.title.toLowerCase().includes(needle) && !c.node_id.toLowerCase().includes(needle)) continue;
      out.push(c);
    }
    return out.sort((a, b) => naturalCompare(a.node_id, b.node_id));
  }, [chats, q]);
  return (
    <details className="other-chats">
      <summary className="hint">
        {count === 1 ? '1 other node has' : `${count.toLocaleString()} other nodes have`} not talked to you. Open one
      </summary>
      {count > 10 ? (
        <div className="field">
          <label htmlFor={`${uid}-find`} className="visually-hidden">
            Find a node's chat
          </label>
          <input id={`${uid}-find`} type="search" placeholder="Find a node…" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
      ) : null}
      <ul aria-label="Other nodes">
        {matches.slice(0, OTHERS_SHOWN).map((c) => (
          <li key={c.id}>
            <Link
              to={`/swarms/${swarmId}/chat/${encodeURIComponent(c.id)}`}
              className={`chat-item ${c.id === activeId ? 'active' : ''}`}
              aria-current={c.id === activeId ? 'page' : undefined}
              data-testid="other-chat"
            >
              <span className="chat-item-title">{c.title}</span>
            </Link>
          </li>
        ))}
      </ul>
      {matches.length > OTHERS_SHOWN ? (
        <p className="hint">{(matches.length - OTHERS_SHOWN).toLocaleString()} more: narrow the search to find them.</p>
      ) : null}
    </details>
  );
}
