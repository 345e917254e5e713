import { useMemo } from 'react';
import { useParams } from 'react-router';
import EmptyState from '../../components/EmptyState';
import { plural } from '../../lib/format';
import { fileTree, foldersOf } from './memory';
import { useAppSelector } from '../../app/store';
import { selectIsHistory, selectViewState } from '../history/selectors';
import HistoryBar from '../history/HistoryBar';
import FileFolder from './FileFolder';
import FilePreview from './FilePreview';
import Uploader from './Uploader';
import { useSpaceSelection } from './useSpaceSelection';
import './spaces.css';

/**
 * The memory space of a swarm as of the history slider's point: its file tree, a preview of the picked file
 * (Markdown rendered, code highlighted, images shown), who wrote it, and download and upload.
 */
export default function MemoryPage() {
  const { swarmId = '' } = useParams();
  const { selected: selectedPath, select, closed: shownClosed, toggle } = useSpaceSelection('file', foldersOf);
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const shownSeq = useAppSelector((s) => s.scrub.shownSeq);
  const liveSeq = useAppSelector((s) => s.live.swarms[swarmId]?.state?.seq ?? 0);
  const memory = view?.memory;
  const tree = useMemo(() => fileTree(memory), [memory]);
  const count = memory ? Object.keys(memory).length : 0;
  const selected = selectedPath ? memory?.[selectedPath] : undefined;

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
