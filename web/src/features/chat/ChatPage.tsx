import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import type { ChatSummary } from '../../api/types';
import EmptyState from '../../components/EmptyState';
import { useAppSelector } from '../../app/store';
import { selectIsHistory, selectOrderedChats, selectViewState } from '../history/selectors';
import OtherChats from './OtherChats';
import HistoryBanner from './HistoryBanner';
import ChatListItem from './ChatListItem';
import ChatView from './ChatView';

const GROUPS: { status: ChatSummary['status']; label: string }[] = [
  { status: 'awaiting_user', label: 'Waiting on you' },
  { status: 'open', label: 'Open' },
  { status: 'closed', label: 'Closed' },
];

export default function ChatPage() {
  const { swarmId = '', chatId } = useParams();
  // Fetch the Markdown renderer (and KaTeX) while the list renders, so messages show formatted at once.
  useEffect(() => {
    void import('../../components/MarkdownRenderer');
  }, []);
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const visible = selectOrderedChats(view);
  const idleCount = view ? Object.keys(view.chats).length - visible.length : 0;
  const selected = chatId ? view?.chats[chatId] : undefined;

  return (
    <div className={`chat-page ${chatId ? 'has-selection' : ''}`}>
      <nav className="chat-list" aria-label="Chats">
        <h2 className="visually-hidden">Chats</h2>
        {history ? <HistoryBanner swarmId={swarmId} /> : null}
        {visible.length === 0 ? (
          <EmptyState title="No conversations yet.">
            {view?.status === 'draft' ? (
              <p>Spawn the swarm to start. When an agent needs your input, its chat appears here.</p>
            ) : (
              <p>When an agent needs your input, its chat appears here, at the top. You can follow the work in the Tree.</p>
            )}
          </EmptyState>
        ) : (
          GROUPS.map((g) => {
            const list = visible.filter((c) => c.status === g.status);
            if (!list.length) return null;
            return (
              <section key={g.status} aria-label={g.label}>
                <h3 className="chat-group">
                  {g.label} <span className="count">({list.length})</span>
                </h3>
                <ul>
                  {list.map((c) => (
                    <ChatListItem key={c.id} swarmId={swarmId} chat={c} active={c.id === chatId} />
                  ))}
                </ul>
              </section>
            );
          })
        )}
        {idleCount > 0 && view ? <OtherChats swarmId={swarmId} chats={view.chats} count={idleCount} activeId={chatId} /> : null}
      </nav>
      <section className="chat-main" aria-label={selected ? `Chat: ${selected.title}` : 'Chat'}>
        {chatId && !selected ? (
          <EmptyState title="This chat does not exist at this point.">
            <p>
              It may belong to a node spawned later. <Link to={`/swarms/${swarmId}/chat`}>Back to the chats</Link>
            </p>
          </EmptyState>
        ) : selected && view ? (
          <ChatView
            key={selected.id}
            swarmId={swarmId}
            chat={selected}
            node={view.nodes[selected.node_id]}
            history={history}
            paused={view.status === 'paused'}
          />
        ) : (
          <EmptyState title="Select a chat.">
            <p>Chats waiting on you are listed first. Pick one to read it and reply.</p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}
