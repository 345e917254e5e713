// Files in the chat: what a message carries (image thumbnails, chips for other files, each with a download
// link to the exact version it carried) and the files picked for the message being written.
import { memoryFileUrl } from '../../api/http';
import type { Attachment } from '../../api/types';

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
