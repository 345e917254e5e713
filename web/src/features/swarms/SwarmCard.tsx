import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { patchSwarmCaches, useCloneSwarmMutation, useDeleteSwarmMutation, useGetSwarmQuery, useSwarmActionMutation, useUpdateSwarmMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import type { SwarmListItem } from '../../api/types';
import ConfirmDialog from '../../components/ConfirmDialog';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import StatusBadge from './StatusBadge';
import OutcomePreview from './OutcomePreview';
import { formatTime } from '../../lib/format';
import { useLive } from '../live/LiveContext';
import { useAppDispatch } from '../../app/store';
import Goal from './Goal';
import ForkOrigin from './ForkOrigin';

export default function SwarmCard({ swarm, onAnnounce }: { swarm: SwarmListItem; onAnnounce(msg: string): void }) {
  const dispatch = useAppDispatch();
  const live = useLive();
  const uid = useId();
  const [act, actState] = useSwarmActionMutation();
  const [clone, cloneState] = useCloneSwarmMutation();
  const [del, delState] = useDeleteSwarmMutation();
  const [update, updateState] = useUpdateSwarmMutation();
  const [confirming, setConfirming] = useState(false);
  const [editing, setEditing] = useState(false);
  const [goalDraft, setGoalDraft] = useState<string | null>(null);
  // The list carries only the goal's beginning: the whole goal is fetched when editing starts.
  const full = useGetSwarmQuery(swarm.id, { skip: !editing });
  const goalText = goalDraft ?? full.data?.goal ?? null;
  const [error, setError] = useState<string | null>(null);
  const busy = actState.isLoading || cloneState.isLoading || delState.isLoading || updateState.isLoading;

  const run = async (action: 'spawn' | 'pause' | 'resume') => {
    setError(null);
    try {
      const s = await act({ swarmId: swarm.id, action }).unwrap();
      patchSwarmCaches(dispatch, swarm.id, s);
      live?.acted(swarm.id, action);
      onAnnounce(`${swarm.name} is now ${s.status}.`);
    } catch (err) {
      setError(`Could not ${action} the swarm. ${describeError(err)}`);
      live?.refresh(swarm.id);
    }
  };
  const doClone = async () => {
    setError(null);
    try {
      const s = await clone({ swarmId: swarm.id, body: {} }).unwrap();
      onAnnounce(`Cloned as “${s.name}”, a new draft.`);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const doDelete = async () => {
    try {
      await del(swarm.id).unwrap();
      setConfirming(false);
      onAnnounce(`Deleted “${swarm.name}”.`);
    } catch (err) {
      setConfirming(false);
      setError(describeError(err));
    }
  };
  const saveGoal = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const s = await update({ swarmId: swarm.id, body: { goal: goalText ?? '' } }).unwrap();
      patchSwarmCaches(dispatch, swarm.id, s);
      setEditing(false);
      setGoalDraft(null);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <li className="card swarm-card" aria-labelledby={`${uid}-name`} data-testid="swarm-card">
      <div className="swarm-card-head">
        <h3 id={`${uid}-name`}>
          <Link to={`/swarms/${swarm.id}/chat`}>{swarm.name}</Link>
        </h3>
        <StatusBadge status={swarm.status} />
      </div>
      {editing && goalText === null ? (
        <Loading label="Loading the goal…" />
      ) : editing ? (
        <form onSubmit={saveGoal} className="goal-edit">
          <label htmlFor={`${uid}-goal`}>Goal of {swarm.name}</label>
          <textarea id={`${uid}-goal`} value={goalText ?? ''} onChange={(e) => setGoalDraft(e.target.value)} rows={4} />
          <div className="row">
            <button type="submit" className="primary" disabled={updateState.isLoading}>
              {updateState.isLoading ? 'Saving…' : 'Save goal'}
            </button>
            <button
              type="button"
              onClick={() => {
                setEditing(false);
                setGoalDraft(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <Goal swarmId={swarm.id} name={swarm.name} preview={swarm.goal_preview} chars={swarm.goal_chars} />
      )}
      <OutcomePreview swarm={swarm} />
      <p className="meta">
        Created {formatTime(swarm.created_at)}
        {swarm.forked_from ? (
          <>
            {' · '}
            <ForkOrigin swarmId={swarm.forked_from} atSeq={swarm.forked_at_seq} />
          </>
        ) : null}
      </p>
      <ErrorMessage>{error}</ErrorMessage>
      <div className="row actions" role="group" aria-label={`Actions for ${swarm.name}`}>
        <Link className="button" to={`/swarms/${swarm.id}/chat`} aria-label={`Open chats of ${swarm.name}`}>
          Chats
        </Link>
        <Link className="button" to={`/swarms/${swarm.id}/tree`} aria-label={`Open tree of ${swarm.name}`}>
          Tree
        </Link>
        {swarm.status === 'draft' ? (
          <>
            <button type="button" className="primary" onClick={() => run('spawn')} disabled={busy}>
              Spawn
            </button>
            {!editing ? (
              <button type="button" onClick={() => setEditing(true)} disabled={busy}>
                Edit goal
              </button>
            ) : null}
          </>
        ) : null}
        {swarm.status === 'running' ? (
          <button type="button" onClick={() => run('pause')} disabled={busy}>
            Pause
          </button>
        ) : null}
        {swarm.status === 'paused' ? (
          <button type="button" className="primary" onClick={() => run('resume')} disabled={busy}>
            Resume
          </button>
        ) : null}
        <button type="button" onClick={doClone} disabled={busy}>
          {cloneState.isLoading ? 'Cloning…' : 'Clone'}
        </button>
        <button type="button" className="danger-outline" onClick={() => setConfirming(true)} disabled={busy}>
          Delete
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Delete “${swarm.name}”?`}
        confirmLabel="Delete swarm"
        danger
        busy={delState.isLoading}
        onCancel={() => setConfirming(false)}
        onConfirm={doDelete}
      >
        <p>Its tree, chats and history are deleted for good. This cannot be undone.</p>
      </ConfirmDialog>
    </li>
  );
}
