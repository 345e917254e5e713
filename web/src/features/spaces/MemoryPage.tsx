import { useId, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { memoryFileUrl, useMemoryTextQuery, useUploadMemoryMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import type { MemoryFile, SwarmState } from '../../api/types';
import { EmptyState, ErrorMessage, Loading } from '../../components/Feedback';
import Markdown from '../../components/Markdown';
import { plural } from '../../lib/format';
import { catchUp } from '../live/thunks';
import {
  MAX_PREVIEW_BYTES,
  codeFence,
  codeLanguage,
  fileTree,
  foldersOf,
  formatBytes,
  previewKind,
  type MemoryFolder,
} from './memory';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { selectIsHistory, selectViewState } from '../history/selectors';
import HistoryBar from '../history/HistoryBar';
import './spaces.css';

/**
 * The memory space of a swarm as of the history slider's point: its file tree, a preview of the picked file
 * (Markdown rendered, code highlighted, images shown), who wrote it, and download and upload.
 */
export default function MemoryPage() {
  const { swarmId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const selectedPath = params.get('file');
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const shownSeq = useAppSelector((s) => s.scrub.shownSeq);
  const liveSeq = useAppSelector((s) => s.live.swarms[swarmId]?.state?.seq ?? 0);
  const memory = view?.memory;
  const tree = useMemo(() => fileTree(memory), [memory]);
  const count = memory ? Object.keys(memory).length : 0;
  const [closed, setClosed] = useState<string[]>([]);
  const selected = selectedPath ? memory?.[selectedPath] : undefined;

  const select = (path: string) => {
    const next = new URLSearchParams(params);
    next.set('file', path);
    setParams(next, { replace: true });
  };
  const above = selectedPath ? foldersOf(selectedPath) : [];
  const shownClosed = closed.filter((c) => !above.includes(c));
  const toggle = (path: string) =>
    setClosed(shownClosed.includes(path) ? shownClosed.filter((c) => c !== path) : [...shownClosed, path]);

  return (
    <div className="space-page">
      <div className="space-body">
        <nav className="space-tree" aria-label="Memory space">
          <h2>
            Memory space{' '}
            <span className="hint" data-testid="memory-count">
              {plural(count, 'file')}
              {history ? ` as of event ${shownSeq.toLocaleString()}` : ''}
            </span>
          </h2>
          <Uploader swarmId={swarmId} disabled={history} onUploaded={(files) => files[0] && select(files[0].path)} />
          {count === 0 ? (
            <p className="hint">
              {history
                ? 'No files at this point in the history.'
                : 'No files yet. Agents write theirs here (memory.write, do artifacts); your uploads land in uploads/.'}
            </p>
          ) : (
            <FileFolder folder={tree} closed={shownClosed} selected={selectedPath} onToggle={toggle} onSelect={select} top />
          )}
        </nav>
        <section className="space-detail" aria-label="File preview">
          {selected ? (
            <FilePreview key={`${selected.path}@${selected.seq}`} swarmId={swarmId} file={selected} state={view} />
          ) : selectedPath ? (
            <EmptyState title="That file does not exist at this point.">
              <p>It may be written later in the history, or it was never there.</p>
            </EmptyState>
          ) : (
            <EmptyState title="Pick a file.">
              <p>Files the agents and you wrote to this swarm's shared memory. The slider below shows them as of any point.</p>
            </EmptyState>
          )}
        </section>
      </div>
      <HistoryBar swarmId={swarmId} liveSeq={liveSeq} />
    </div>
  );
}

interface FileFolderProps {
  folder: MemoryFolder;
  closed: string[];
  selected: string | null;
  onToggle(path: string): void;
  onSelect(path: string): void;
  top?: boolean;
}

function FileFolder({ folder, closed, selected, onToggle, onSelect, top }: FileFolderProps) {
  return (
    <ul className={top ? 'space-list space-list-top' : 'space-list'}>
      {folder.folders.map((f) => {
        const open = !closed.includes(f.path);
        return (
          <li key={f.path} className="space-folder">
            <button type="button" className="space-folder-button" aria-expanded={open} onClick={() => onToggle(f.path)}>
              <span aria-hidden="true" className="space-caret">
                {open ? '▾' : '▸'}
              </span>
              <span className="space-name">{f.name}/</span>
            </button>
            {open ? (
              <FileFolder folder={f} closed={closed} selected={selected} onToggle={onToggle} onSelect={onSelect} />
            ) : null}
          </li>
        );
      })}
      {folder.files.map((file) => {
        const name = file.path.slice(file.path.lastIndexOf('/') + 1);
        const active = file.path === selected;
        return (
          <li key={file.path}>
            <button
              type="button"
              className={`space-item${active ? ' active' : ''}`}
              aria-current={active ? 'true' : undefined}
              onClick={() => onSelect(file.path)}
              data-testid="memory-file"
              data-path={file.path}
            >
              <span className="space-name">{name}</span>
              <span className="hint">{formatBytes(file.size)}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function Writer({ swarmId, file, state }: { swarmId: string; file: MemoryFile; state: SwarmState | null }) {
  if (!file.node_id) return <>You (an upload)</>;
  const node = state?.nodes[file.node_id];
  return (
    <>
      <Link to={`/swarms/${swarmId}/tree?node=${encodeURIComponent(file.node_id)}`} data-testid="writer-link">
        {node?.title ?? file.node_id}
      </Link>{' '}
      <code className="hint">{file.node_id}</code>
    </>
  );
}

function FilePreview({ swarmId, file, state }: { swarmId: string; file: MemoryFile; state: SwarmState | null }) {
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

function TextPreview({ swarmId, file }: { swarmId: string; file: MemoryFile }) {
  const q = useMemoryTextQuery({ swarmId, path: file.path, seq: file.seq });
  if (q.isLoading) return <Loading label="Loading the file…" />;
  if (q.error || q.data === undefined) return <ErrorMessage>{describeError(q.error)}</ErrorMessage>;
  const kind = previewKind(file);
  const language = codeLanguage(file);
  return (
    <div className="file-body" data-testid="file-body" data-kind={kind}>
      {kind === 'markdown' ? (
        <Markdown>{q.data}</Markdown>
      ) : kind === 'code' && language ? (
        <Markdown>{codeFence(q.data, language)}</Markdown>
      ) : (
        <pre className="output" tabIndex={0}>
          {q.data}
        </pre>
      )}
    </div>
  );
}

function Uploader({
  swarmId,
  disabled,
  onUploaded,
}: {
  swarmId: string;
  disabled: boolean;
  onUploaded(files: MemoryFile[]): void;
}) {
  const dispatch = useAppDispatch();
  const [upload, state] = useUploadMemoryMutation();
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const uid = useId();

  const onChange = async (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = '';
    if (!files.length) return;
    setError(null);
    setDone(null);
    try {
      const written = await upload({ swarmId, files }).unwrap();
      setDone(`Uploaded ${written.map((f) => f.path).join(', ')}.`);
      // The swarm's socket may be closed (a draft, a finished swarm): fetch the new events now.
      await dispatch(catchUp(swarmId));
      onUploaded(written);
    } catch (err) {
      setError(`Could not upload: ${describeError(err)}`);
    }
  };

  return (
    <div className="uploader">
      <input
        id={`${uid}-file`}
        ref={input}
        type="file"
        multiple
        className="visually-hidden"
        onChange={(e) => void onChange(e)}
        disabled={disabled || state.isLoading}
        aria-label="Files to upload"
        data-testid="memory-upload-input"
      />
      <button type="button" onClick={() => input.current?.click()} disabled={disabled || state.isLoading}>
        {state.isLoading ? 'Uploading…' : 'Upload files'}
      </button>
      <span className="hint">{disabled ? 'Back to live to upload.' : 'Into uploads/'}</span>
      {done ? (
        <p className="hint" role="status">
          {done}
        </p>
      ) : null}
      <ErrorMessage>{error}</ErrorMessage>
    </div>
  );
}
