import { useId, useMemo, useState } from 'react';
import type { Node, SwarmState } from '../../api/types';
import { LIFECYCLE_LABELS } from './glyphs';

export default function FindNode({ state, onPick }: { state: SwarmState | null; onPick(id: string): void }) {
  const [q, setQ] = useState('');
  const uid = useId();
  const matches = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!needle || !state) return [];
    const out: Node[] = [];
    for (const id in state.nodes) {
      const n = state.nodes[id]!;
      if (n.title.toLowerCase().includes(needle) || n.id.toLowerCase() === needle) out.push(n);
      if (out.length >= 8) break;
    }
    return out;
  }, [q, state]);
  return (
    <div className="find-node">
      <label htmlFor={`${uid}-find`} className="visually-hidden">
        Find a node
      </label>
      <input
        id={`${uid}-find`}
        type="search"
        placeholder="Find a node…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {matches.length ? (
        <ul className="find-results" aria-label="Matching nodes">
          {matches.map((n) => (
            <li key={n.id}>
              <button
                type="button"
                onClick={() => {
                  onPick(n.id);
                  setQ('');
                }}
              >
                {n.title} <span className="hint">({LIFECYCLE_LABELS[n.lifecycle]})</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
