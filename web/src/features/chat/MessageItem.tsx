import type { Message } from '../../api/types';
import AttachmentList from './AttachmentList';
import Markdown from '../../components/Markdown';
import { formatTime } from '../../lib/format';

const ROLE_LABEL = { agent: 'Agent', user: 'You', system: 'System' } as const;

export default function MessageItem({ swarmId, m, held }: { swarmId: string; m: Message; held: boolean }) {
  return (
    <li className={`message message-${m.role}${held ? ' held' : ''}`} data-testid="message">
      <div className="message-meta">
        <span className="message-role">{ROLE_LABEL[m.role]}</span>
        <time dateTime={m.created_at}>{formatTime(m.created_at)}</time>
        {held ? <span className="held-label">Held until you resume</span> : null}
      </div>
      {m.content ? <Markdown>{m.content}</Markdown> : null}
      <AttachmentList swarmId={swarmId} attachments={m.attachments ?? []} />
    </li>
  );
}
