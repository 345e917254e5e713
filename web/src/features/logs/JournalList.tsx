import type { JournalEntry } from '../../api/types';

/** A node's journal: one line of narrative per meaningful thing it did, with the step that wrote it. */
export default function JournalList({ entries }: { entries: JournalEntry[] }) {
  if (!entries.length) return <p className="hint">Nothing written yet.</p>;
  return (
    <ol className="journal">
      {entries.map((j) => (
        <li key={j.id}>
          <span className="journal-step">{j.step}</span> {j.text}
        </li>
      ))}
    </ol>
  );
}
