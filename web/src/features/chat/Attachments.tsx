// Files in the chat: what a message carries (image thumbnails, chips for other files, each with a download
// link to the exact version it carried) and the files picked for the message being written.
import { memoryFileUrl } from '../../api/http';
import type { Attachment } from '../../api/types';
import { formatBytes } from '../spaces/memory';

/** Types shown as thumbnails (the server serves them inline, with nosniff; anything else is a chip). */
const THUMBNAIL_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function isThumbnail(a: Pick<Attachment, 'content_type'>): boolean {
  return THUMBNAIL_TYPES.has(a.content_type);
}

export function attachmentUrls(swarmId: string, a: Attachment): { view: string; download: string } {
  const at = a.seq ?? undefined;
  return {
    view: memoryFileUrl(swarmId, a.path, { at }),
    download: memoryFileUrl(swarmId, a.path, { at, download: true }),
  };
}

export function AttachmentList({ swarmId, attachments }: { swarmId: string; attachments: readonly Attachment[] }) {
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

/** The files picked for the message being written, each removable. */
export function PickedFiles({ files, onRemove }: { files: readonly File[]; onRemove(index: number): void }) {
  if (!files.length) return null;
  return (
    <ul className="attachments picked" aria-label="Files to send">
      {files.map((f, i) => (
        <li key={`${f.name}-${i}`} className="attachment attachment-chip" data-testid="picked-file">
          <span className="attachment-name">{f.name}</span>
          <span className="attachment-size">{formatBytes(f.size)}</span>
          <button type="button" className="attachment-remove" onClick={() => onRemove(i)} aria-label={`Remove ${f.name}`}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

/** Files a paste carries (a screenshot pasted into the reply box), named when the browser gave no name. */
export function pastedFiles(data: DataTransfer | null): File[] {
  if (!data) return [];
  const out: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== 'file') continue;
    const f = item.getAsFile();
    if (!f) continue;
    const ext = f.type.split('/')[1]?.replace(/[^a-z0-9]/g, '') || 'bin';
    out.push(f.name ? f : new File([f], `pasted-${out.length + 1}.${ext}`, { type: f.type }));
  }
  return out;
}
