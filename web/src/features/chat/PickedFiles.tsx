import { formatBytes } from '../spaces/memory';

/** The files picked for the message being written, each removable. */
export default function PickedFiles({ files, onRemove }: { files: readonly File[]; onRemove(index: number): void }) {
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
