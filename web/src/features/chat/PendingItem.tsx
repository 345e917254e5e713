import ErrorMessage from '../../components/ErrorMessage';
import { type PendingMessage } from './chatSlice';

export default function PendingItem({ p, onRetry, onDiscard }: { p: PendingMessage; onRetry(): void; onDiscard(): void }) {
  return (
    <li className={`message message-user pending ${p.status}`} data-testid="pending-message" data-status={p.status}>
      <div className="message-meta">
        <span className="message-role">You</span>
        <span className="pending-label">{p.status === 'sending' ? 'Sending…' : 'Not sent'}</span>
      </div>
      <div className="md md-plain">{p.content}</div>
      {p.files?.length ? <p className="pending-files">Files: {p.files.join(', ')}</p> : null}
      {p.status === 'failed' ? (
        <div className="pending-actions">
          <ErrorMessage>{p.error}</ErrorMessage>
          <button type="button" className="primary" onClick={onRetry}>
            Retry
          </button>
          <button type="button" onClick={onDiscard}>
            Discard
          </button>
        </div>
      ) : null}
    </li>
  );
}
