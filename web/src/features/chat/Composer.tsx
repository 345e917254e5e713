import { useEffect, useId, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import PickedFiles from './PickedFiles';
import { pastedFiles } from './attachments';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { draftChanged } from './chatSlice';

interface ComposerProps {
  chatId: string;
  disabled: boolean;
  onSend(content: string, files: File[]): void;
  /** Set when the node has not asked: the message is told to it (``POST .../tell``), not a reply. */
  label?: string;
}

export default function Composer({ chatId, disabled, onSend, label }: ComposerProps) {
  const dispatch = useAppDispatch();
  const draft = useAppSelector((s) => s.chat.drafts[chatId] ?? '');
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const uid = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  const add = (more: File[]) => {
    if (more.length) setFiles((now) => [...now, ...more]);
  };
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const content = draft.trim();
    if ((!content && !files.length) || disabled) return;
    onSend(content, files);
    setFiles([]);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = pastedFiles(e.clipboardData);
    if (pasted.length) {
      e.preventDefault(); // a pasted screenshot is a file, not text
      add(pasted);
    }
  };
  const onDrop = (e: DragEvent<HTMLFormElement>) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    setDragging(false);
    add(Array.from(e.dataTransfer.files));
  };
  const onDragOver = (e: DragEvent<HTMLFormElement>) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    setDragging(true);
  };
  return (
    <form
      className={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={submit}
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      data-testid="composer"
    >
      <label htmlFor={`${uid}-reply`} className="visually-hidden">
        {label ?? 'Your reply'}
      </label>
      <textarea
        id={`${uid}-reply`}
        ref={ref}
        value={draft}
        onChange={(e) => dispatch(draftChanged({ chatId, text: e.target.value }))}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        rows={3}
        placeholder={label ? 'Tell this agent something…' : 'Write your reply…'}
        aria-describedby={`${uid}-hint`}
      />
      <PickedFiles files={files} onRemove={(i) => setFiles((now) => now.filter((_, j) => j !== i))} />
      <div className="composer-foot">
        <span className="hint" id={`${uid}-hint`}>
          Enter sends · Shift+Enter adds a line · Markdown works · drop or paste files to attach
        </span>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="Files to attach"
          data-testid="attach-input"
          onChange={(e) => {
            add(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <button type="button" className="attach-button" onClick={() => picker.current?.click()} disabled={disabled}>
          Attach files
        </button>
        <button type="submit" className="primary" disabled={disabled || (!draft.trim() && !files.length)}>
          Send
        </button>
      </div>
    </form>
  );
}
