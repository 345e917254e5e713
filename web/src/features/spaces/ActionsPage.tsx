import { useMemo, useState } from 'react';
import { useParams } from 'react-router';
import { useActionSpaceQuery, useAutoApproveMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import EmptyState from '../../components/EmptyState';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import { allActions, foldersAbove, nodesByAction } from './actions';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { catchUp } from '../live/thunks';
import { selectIsHistory, selectViewState } from '../history/selectors';
import HistoryBar from '../history/HistoryBar';
import FolderView from './FolderView';
import ActionDetail from './ActionDetail';
import { useSpaceSelection } from './useSpaceSelection';
import './spaces.css';

/**
 * The action space of a swarm: its folders and actions (built-in, tools, MCP servers' tools, custom), each
 * with what it takes and its approval policy, and the nodes that ran it as of the history slider's point.
 */
export default function ActionsPage() {
  const { swarmId = '' } = useParams();
  const q = useActionSpaceQuery(swarmId);
  const root = q.data?.root;
  // a selected action inside closed folders (a link, a reload) shows: the folders above it are drawn open
  const tree = useSpaceSelection('action', (id) => (root ? foldersAbove(root, id) : []));
  const selectedId = tree.selected;
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const shownSeq = useAppSelector((s) => s.scrub.shownSeq);
  const liveSeq = useAppSelector((s) => s.live.swarms[swarmId]?.state?.seq ?? 0);
  const counts = useMemo(() => nodesByAction(view), [view]);
  const dispatch = useAppDispatch();
  const [autoApprove, autoApproving] = useAutoApproveMutation();
  const [autoApproveError, setAutoApproveError] = useState<string | null>(null);
  const [autoApprovePending, setAutoApprovePending] = useState<boolean | null>(null);
  // The switch's new value reaches the view as an `auto_approve` event: caught up at once (a finished swarm has
  // no socket), and shown as asked for until then.
  const switchAutoApprove = async (tool: string, enabled: boolean) => {
    setAutoApproveError(null);
    setAutoApprovePending(enabled);
    try {
      await autoApprove({ swarmId, body: { enabled, tool } }).unwrap();
      await dispatch(catchUp(swarmId));
    } catch (err) {
      setAutoApproveError(describeError(err));
    } finally {
      setAutoApprovePending(null);
    }
  };

  const selected = root && selectedId ? allActions(root).find((x) => x.action.id === selectedId) : undefined;

  return (
    <div className="space-page">
      <div className="space-body">
        <nav className="space-tree" aria-label="Action space">
          <h2>
            Action space{' '}
            <span className="hint">{history ? `as of event ${shownSeq.toLocaleString()}` : ''}</span>
          </h2>
          {q.isLoading ? (
            <Loading label="Loading the action space…" />
          ) : q.error || !root ? (
            <ErrorMessage>{describeError(q.error)}</ErrorMessage>
          ) : (
            <FolderView
              folder={root}
              counts={counts}
              closed={tree.closed}
              selectedId={selectedId}
              onToggle={tree.toggle}
              onSelect={tree.select}
              top
            />
          )}
        </nav>
        <section className="space-detail" aria-label="Action details">
          {selected ? (
            <ActionDetail
              swarmId={swarmId}
              action={selected.action}
              folder={selected.folder}
              nodes={counts.get(selected.action.id) ?? []}
              state={view}
              at={history ? shownSeq : null}
              onAutoApprove={(enabled) => void switchAutoApprove(selected.action.id, enabled)}
              autoApproveBusy={autoApproving.isLoading}
              autoApprovePending={autoApprovePending}
              autoApproveError={autoApproveError}
            />
          ) : selectedId && root ? (
            <EmptyState title="This swarm has no such action.">
              <p>It may come from a server or plugin that is no longer configured.</p>
            </EmptyState>
          ) : (
            <EmptyState title="Pick an action.">
              <p>
                The model routes each subtask down these folders to one action. Pick one to see what it takes, whether it
                asks you first, and which nodes ran it.
              </p>
            </EmptyState>
          )}
        </section>
      </div>
      <HistoryBar swarmId={swarmId} liveSeq={liveSeq} />
    </div>
  );
}
