import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation, useParams } from 'react-router';
import { patchSwarmCaches, useGetSwarmQuery, useSwarmActionMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import ConnectionIndicator from '../live/ConnectionIndicator';
import PageBoundary from '../../components/PageBoundary';
import EmptyState from '../../components/EmptyState';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import StatusBadge from './StatusBadge';
import { SwarmOutcome } from './SwarmOutcome';
import { formatCost, plural } from '../../lib/format';
import { useLive } from '../live/LiveContext';
import { loadLive } from '../live/thunks';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { backToLive } from '../history/scrubSlice';
import { selectIsHistory } from '../history/selectors';
import HistoryMark from './HistoryMark';

const TAB_NAMES = { chat: 'chat', tree: 'tree view', actions: 'action space', memory: 'memory space' } as const;

function tabOf(pathname: string): keyof typeof TAB_NAMES {
  const last = pathname.replace(/\/+$/, '').split('/').pop();
  return last === 'tree' || last === 'actions' || last === 'memory' ? last : 'chat';
}

export default function SwarmLayout() {
  const { swarmId = '' } = useParams();
  const tab = tabOf(useLocation().pathname);
  const dispatch = useAppDispatch();
  const live = useLive();
  const swarmQ = useGetSwarmQuery(swarmId);
  const liveEntry = useAppSelector((s) => s.live.swarms[swarmId]);
  const liveState = liveEntry?.state ?? null;
  // While the history slider is in the past, the header tells that point's story, not the live one.
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const pastState = useAppSelector((s) => (selectIsHistory(s, swarmId) ? s.scrub.state : null));
  const [act, actState] = useSwarmActionMutation();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void dispatch(loadLive(swarmId));
    return live?.watchSwarm(swarmId);
  }, [dispatch, live, swarmId]);
  // Leaving a swarm ends any scrubbing of it.
  useEffect(() => () => void dispatch(backToLive()), [dispatch, swarmId]);

  const swarm = swarmQ.data;
  useEffect(() => {
    if (swarm) document.title = `${swarm.name} · AGA Swarm`;
  }, [swarm]);

  if (swarmQ.isLoading) return <Loading label="Loading the swarm…" page />;
  if (swarmQ.error || !swarm) {
    return (
      <div className="page narrow">
        <EmptyState title="This swarm could not be loaded.">
          <p>{describeError(swarmQ.error)}</p>
          <p>
            <NavLink to="/swarms">Back to your swarms</NavLink>
          </p>
        </EmptyState>
      </div>
    );
  }
  const liveStatus = liveState?.status ?? swarm.status;
  const shown = history ? (pastState ?? liveState) : liveState;
  const status = history && pastState ? pastState.status : liveStatus;
  const usage = shown?.usage;
  const failure = history ? (pastState?.failure_reason ?? null) : (liveState?.failure_reason ?? swarm.failure_reason);

  const run = async (action: 'spawn' | 'pause' | 'resume') => {
    setError(null);
    try {
      const s = await act({ swarmId, action }).unwrap();
      patchSwarmCaches(dispatch, swarmId, s);
      live?.acted(swarmId, action);
    } catch (err) {
      setError(`Could not ${action} the swarm. ${describeError(err)}`);
      // Refused because the swarm changed where this page could not see it: show its true status.
      live?.refresh(swarmId);
    }
  };

  return (
    <div className="swarm-page">
      <header className={`swarm-head${history ? ' swarm-head-history' : ''}`}>
        <div className="swarm-title">
          <h1>{swarm.name}</h1>
          <StatusBadge status={status} />
          {history ? (
            <HistoryMark seq={pastState?.seq ?? null} liveSeq={liveState?.seq ?? 0} onLive={() => dispatch(backToLive())} />
          ) : (
            <ConnectionIndicator swarmId={swarmId} status={status} />
          )}
          {history ? null : (
          <div className="row swarm-controls" role="group" aria-label="Swarm controls">
          {status === 'draft' ? (
            <button type="button" className="primary" onClick={() => run('spawn')} disabled={actState.isLoading}>
              Spawn
            </button>
          ) : null}
          {status === 'running' ? (
            <button type="button" onClick={() => run('pause')} disabled={actState.isLoading}>
              Pause
            </button>
          ) : null}
          {status === 'paused' ? (
            <button type="button" className="primary" onClick={() => run('resume')} disabled={actState.isLoading}>
              Resume
            </button>
          ) : null}
          </div>
          )}
        </div>
        {usage ? (
          <p className="usage" aria-label="Usage">
            {plural(usage.nodes, 'node')} · {plural(usage.llm_calls, 'model call')} ·{' '}
            {(usage.tokens_in + usage.tokens_out).toLocaleString()} tokens · {formatCost(usage.cost_usd)}
          </p>
        ) : null}
        {failure ? <p className="failure">Failed: {failure}</p> : null}
        <SwarmOutcome swarm={swarm} state={shown} />
        <ErrorMessage>{error}</ErrorMessage>
        <nav aria-label="Swarm views" className="tabs">
          <NavLink to={`/swarms/${swarmId}/chat`}>Chat</NavLink>
          <NavLink to={`/swarms/${swarmId}/tree`}>Tree</NavLink>
          <NavLink to={`/swarms/${swarmId}/actions`}>Actions</NavLink>
          <NavLink to={`/swarms/${swarmId}/memory`}>Memory</NavLink>
          <NavLink to="/swarms" end>
            All swarms
          </NavLink>
        </nav>
      </header>
      {liveEntry?.error && !liveState ? (
        <div className="page narrow">
          <ErrorMessage>{liveEntry.error}</ErrorMessage>
          <button type="button" onClick={() => dispatch(loadLive(swarmId))}>
            Try again
          </button>
        </div>
      ) : !liveState ? (
        <Loading label="Loading the swarm's state…" />
      ) : (
        <PageBoundary what={TAB_NAMES[tab]}>
          <Outlet />
        </PageBoundary>
      )}
    </div>
  );
}
