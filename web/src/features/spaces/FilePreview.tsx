import { memoryFileUrl } from '../../api/http';
import type { MemoryFile, SwarmState } from '../../api/types';
import { MAX_PREVIEW_BYTES, formatBytes, previewKind } from './memory';
import Writer from './Writer';
import TextPreview from './TextPreview';

export default function FilePreview({ swarmId, file, state }: { swarmId: string; file: MemoryFile; state: SwarmState | null }) {
  const kind = previewKind(file);
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  return (
    <div className="file-preview" data-testid="file-preview">
      <div className="file-preview-head">
        <h2>{file.title || name}</h2>
        <div className="row">
          <a className="button" href={memoryFileUrl(swarmId, file.path, { at: file.seq, download: true })} download={name}>
            Download
          </a>
        </div>
      </div>
      <dl className="facts">
        <dt>Path</dt>
        <dd>
          <code>{file.path}</code>
        </dd>
        <dt>Size</dt>
        <dd>
          {formatBytes(file.size)} · {file.content_type}
        </dd>
        <dt>Written by</dt>
        <dd data-testid="file-writer">
          <Writer swarmId={swarmId} file={file} state={state} />
        </dd>
        <dt>Version</dt>
        <dd>written at event {file.seq.toLocaleString()}</dd>
      </dl>
      {kind === 'image' ? (
        <img
          className="file-image"
          src={memoryFileUrl(swarmId, file.path, { at: file.seq })}
          alt={`Preview of ${name}`}
          data-testid="file-image"
        />
      ) : kind === 'none' ? (
        <p className="hint">No preview for {file.content_type} files. Download it to open it.</p>
      ) : file.size > MAX_PREVIEW_BYTES ? (
        <p className="hint">This file is {formatBytes(file.size)}, too large to preview here. Download it to read it.</p>
      ) : (
        <TextPreview swarmId={swarmId} file={file} />
      )}
    </div>
  );
}
