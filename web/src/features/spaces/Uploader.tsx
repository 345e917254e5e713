import { useId, useRef, useState, type ChangeEvent } from 'react';
import { useUploadMemoryMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import type { MemoryFile } from '../../api/types';
import ErrorMessage from '../../components/ErrorMessage';
import { catchUp } from '../live/thunks';
import { useAppDispatch } from '../../app/store';

export default function Uploader({
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
