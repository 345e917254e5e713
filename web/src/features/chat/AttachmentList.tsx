import type { Attachment } from '../../api/types';
import { formatBytes } from '../spaces/memory';
import { isThumbnail, attachmentUrls } from './attachments';

export default function AttachmentList({ swarmId, attachments }: { swarmId: string; attachments: readonly Attachment[] }) {
  if (!attachments.length) return null;
  return (
    <ul className="attachments" aria-label="Attachments">
      {attachments.map((a) => {
        const urls = attachmentUrls(swarmId, a);
        const size = formatBytes(a.size);
        return isThumbnail(a) ? (
          <li key={`${a.path}@${a.seq ?? ''}`} className="attachment attachment-image" data-testid="attachment">
            <a href={urls.view} target="_blank" rel="noopener noreferrer" title={`${a.name} (${size}): open`}>
              <img src={urls.view} alt={a.name} loading="lazy" />
            </a>
            <a className="attachment-download" href={urls.download} download={a.name} aria-label={`Download ${a.name}`}>
              {a.name} · {size}
            </a>
          </li>
        ) : (
          <li key={`${a.path}@${a.seq ?? ''}`} className="attachment attachment-chip" data-testid="attachment">
            <span className="attachment-icon" aria-hidden="true">
              📄
            </span>
            <a href={urls.download} download={a.name} aria-label={`Download ${a.name}`}>
              <span className="attachment-name">{a.name}</span>
            </a>
            <span className="attachment-size">{size}</span>
          </li>
        );
      })}
    </ul>
  );
}
