import { useMemoryTextQuery } from '../../api/http';
import { describeError } from '../../api/errors';
import type { MemoryFile } from '../../api/types';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import Markdown from '../../components/Markdown';
import { codeFence, codeLanguage, previewKind } from './memory';

export default function TextPreview({ swarmId, file }: { swarmId: string; file: MemoryFile }) {
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
