import { Link } from 'react-router';
import type { ChatSummary } from '../../api/types';
import { plainPreview } from '../../lib/plainText';
import { useAppSelector } from '../../app/store';
import { seenKey } from './chatSlice';

export default function ChatListItem({ swarmId, chat, active }: { swarmId: string; chat: ChatSummary; active: boolean }) {
  const seen = useAppSelector((s) => s.chat.seen[seenKey(swarmId, chat.id)] ?? 0);
  const unread = chat.message_count > seen && chat.last_role !== 'user' && !active;
  return (
    <li>
      <Link
        to={`/swarms/${swarmId}/chat/${encodeURIComponent(chat.id)}`}
        className={`chat-item ${active ? 'active' : ''} ${unread ? 'unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-testid="chat-item"
        data-status={chat.status}
      >
        <span className="chat-item-title">
          {unread ? (
            <span className="unread-dot" aria-label="Unread" role="img" />
          ) : null}
          {chat.title}
        </span>
        {chat.last_message ? (
          <span className="chat-item-last">
            {chat.last_role === 'user' ? 'You: ' : ''}
            {plainPreview(chat.last_message)}
          </span>
        ) : null}
      </Link>
    </li>
  );
}
