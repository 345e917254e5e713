import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import {
  listedSwarms,
  patchSwarmCaches,
  useCloneSwarmMutation,
  useConfigsQuery,
  useCreateSwarmMutation,
  useDeleteSwarmMutation,
  useGetSwarmQuery,
  useListSwarmsInfiniteQuery,
  useSwarmActionMutation,
  useUpdateSwarmMutation,
} from '../../api/http';
import { describeError } from '../../api/errors';
import type { Swarm, SwarmListItem } from '../../api/types';
import ConfirmDialog from '../../components/ConfirmDialog';
import ConnectionIndicator from '../live/ConnectionIndicator';
import { EmptyState, ErrorMessage, Loading } from '../../components/Feedback';
import StatusBadge from './StatusBadge';
import { OutcomePreview } from './SwarmOutcome';
import { formatTime } from '../../lib/format';
import { PickedFiles } from '../chat/Attachments';
import { configLabel, isLongGoal } from '../../lib/labels';
import { useSessionDraft } from '../../lib/useSessionDraft';
import { useLive } from '../live/LiveContext';
import { useAppDispatch } from '../../app/store';

export default function SwarmsPage() {
  const live = useLive();
  const { data, isLoading, error, refetch, isFetching, hasNextPage, fetchNextPage, isFetchingNextPage } =
    useListSwarmsInfiniteQuery();
  const swarms = listedSwarms(data);
  const [announce, setAnnounce] = useState('');
  useEffect(() => live?.watchList(), [live]);
  useEffect(() => {
    document.title = 'Swarms · AGA Swarm';
  }, []);

  return (
    <div className="page">
      <h1>Swarms</h1>
      <CreateSwarmForm onCreated={(s) => setAnnounce(`Created “${s.name}”. Press Spawn to start it.`)} />
      <section aria-labelledby="your-swarms" className="swarm-list-section">
        <div className="section-head">
          <h2 id="your-swarms">Your swarms</h2>
          <ConnectionIndicator status={null} />
          <button type="button" onClick={() => refetch()} disabled={isFetching} aria-label="Refresh the list of swarms">
            {isFetching && !isLoading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
        <p className="visually-hidden" role="status" aria-live="polite">
          {announce}
        </p>
        {isLoading ? (
          <Loading label="Loading your swarms…" />
        ) : error ? (
          <div>
            <ErrorMessage>{describeError(error)}</ErrorMessage>
            <button type="button" onClick={() => refetch()}>
              Try again
            </button>
          </div>
        ) : !swarms?.length ? (
          <EmptyState title="No swarms yet.">
            Write a goal in the form above and press <strong>Create swarm</strong>. Then press <strong>Spawn</strong> to
            start it, and open it to watch its tree grow and answer its questions.
          </EmptyState>
        ) : (
          <>
            <ul className="swarm-list" aria-label="Swarms">
              {swarms.map((s) => (
                <SwarmCard key={s.id} swarm={s} onAnnounce={setAnnounce} />
              ))}
            </ul>
            {hasNextPage ? (
              <button type="button" className="load-more" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
                {isFetchingNextPage ? 'Loading more…' : 'Load more swarms'}
              </button>
            ) : null}
          </>
        )}
      </section>
    </div>
  );
}

function CreateSwarmForm({ onCreated }: { onCreated(s: Swarm): void }) {
  const uid = useId();
  const [name, setName] = useSessionDraft('create.name', '');
  const [goal, setGoal] = useSessionDraft('create.goal', '');
  const [config, setConfig] = useState('local');
  const [error, setError] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const configs = useConfigsQuery();
  const [create, { isLoading }] = useCreateSwarmMutation();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!goal.trim()) {
      setError('Write a goal: what should the swarm achieve?');
      return;
    }
    try {
      const s = await create({ goal, name: name.trim() || null, config, files }).unwrap();
      setName('');
      setGoal('');
      setFiles([]);
      onCreated(s);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section className="card create-card" aria-labelledby={`${uid}-h`}>
      <h2 id={`${uid}-h`}>New swarm</h2>
      <form onSubmit={submit} noValidate>
        <div className="grid-2">
          <div className="field">
            <label htmlFor={`${uid}-name`}>Name (optional)</label>
            <input id={`${uid}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-config`}>Config</label>
            <select
              id={`${uid}-config`}
              value={config}
              onChange={(e) => setConfig(e.target.value)}
              disabled={configs.isLoading}
            >
              {(configs.data ?? [{ id: 'local', name: 'local' }]).map((c) => (
                <option key={c.id} value={c.id}>
                  {configLabel(c, configs.data ?? [])}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-goal`}>Goal</label>
          <textarea
            id={`${uid}-goal`}
            value={goal}
            onChange={(e) => setGoal(e.target.value)}
            rows={4}
            aria-describedby={`${uid}-goal-hint`}
            required
          />
          <p className="hint" id={`${uid}-goal-hint`}>
            One subtask per line. A line starting with “Ask” asks you something; “Plan: a; b; c” plans deeper.
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-files`}>Attach files (optional)</label>
          <input
            id={`${uid}-files`}
            type="file"
            multiple
            data-testid="goal-files"
            onChange={(e) => {
              const picked = Array.from(e.target.files ?? []);
              setFiles((now) => [...now, ...picked]);
              e.target.value = '';
            }}
          />
          <PickedFiles files={files} onRemove={(i) => setFiles((now) => now.filter((_, j) => j !== i))} />
        </div>
        <ErrorMessage>{error}</ErrorMessage>
        <button type="submit" className="primary" disabled={isLoading}>
          {isLoading ? 'Creating…' : 'Create swarm'}
        </button>
      </form>
    </section>
  );
}

function SwarmCard({ swarm, onAnnounce }: { swarm: SwarmListItem; onAnnounce(msg: string): void }) {
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

/**
 * A card's goal. The list carries its beginning; a long one is folded to a few lines, and a button (no
 * scroll box) shows it whole, fetching the rest when the list had only a preview.
 */
function Goal({ swarmId, name, preview, chars }: { swarmId: string; name: string; preview: string; chars: number }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const cut = chars > preview.length;
  const full = useGetSwarmQuery(swarmId, { skip: !open || !cut });
  const long = cut || isLongGoal(preview);
  const text = open && cut ? (full.data?.goal ?? `${preview}…`) : `${preview}${cut ? '…' : ''}`;
  return (
    <>
      <p className={`goal${long && !open ? ' goal-folded' : ''}`} id={id}>
        {text}
      </p>
      {long ? (
        <button type="button" className="link-button" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
          {open ? 'Show less' : <>Show the whole goal<span className="visually-hidden"> of {name}</span></>}
        </button>
      ) : null}
    </>
  );
}

/** Where a fork came from: the origin's name as a link. */
function ForkOrigin({ swarmId, atSeq }: { swarmId: string; atSeq: number | null }) {
  const q = useGetSwarmQuery(swarmId);
  const origin = q.data;
  const how = atSeq === null ? 'cloned from ' : `forked at event ${atSeq.toLocaleString()} of `;
  if (origin) {
    return (
      <span data-testid="fork-origin">
        {how}
        <Link to={`/swarms/${origin.id}/chat`}>{origin.name}</Link>
      </span>
    );
  }
  return <span data-testid="fork-origin">{how}{q.isLoading ? '…' : 'a swarm that was deleted'}</span>;
}
