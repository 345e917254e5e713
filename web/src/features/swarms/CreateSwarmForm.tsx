import { useId, useState, type FormEvent } from 'react';
import { useConfigsQuery, useCreateSwarmMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import type { Swarm } from '../../api/types';
import ErrorMessage from '../../components/ErrorMessage';
import PickedFiles from '../chat/PickedFiles';
import { configLabel } from '../../lib/labels';
import { useSessionDraft } from '../../lib/useSessionDraft';

export default function CreateSwarmForm({ onCreated }: { onCreated(s: Swarm): void }) {
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
