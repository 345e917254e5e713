import type { ActionFolderInfo } from '../../api/types';
import { plural } from '../../lib/format';
import { ORIGIN_LABELS, folderCount } from './actions';

interface FolderViewProps {
  folder: ActionFolderInfo;
  counts: Map<string, string[]>;
  closed: string[];
  selectedId: string | null;
  onToggle(path: string): void;
  onSelect(id: string): void;
  top?: boolean;
}

export default function FolderView({ folder, counts, closed, selectedId, onToggle, onSelect, top }: FolderViewProps) {
  return (
    <ul className={top ? 'space-list space-list-top' : 'space-list'}>
      {folder.folders.map((f) => {
        const open = !closed.includes(f.path);
        const n = folderCount(f, counts);
        return (
          <li key={f.path} className="space-folder">
            <button
              type="button"
              className="space-folder-button"
              aria-expanded={open}
              onClick={() => onToggle(f.path)}
              title={f.description}
            >
              <span aria-hidden="true" className="space-caret">
                {open ? '▾' : '▸'}
              </span>
              <span className="space-name">{f.id}/</span>
              {n ? <span className="count-chip" aria-label={`${plural(n, 'node')}`}>{n}</span> : null}
            </button>
            {open ? (
              <FolderView
                folder={f}
                counts={counts}
                closed={closed}
                selectedId={selectedId}
                onToggle={onToggle}
                onSelect={onSelect}
              />
            ) : null}
          </li>
        );
      })}
      {folder.actions.map((a) => {
        const n = counts.get(a.id)?.length ?? 0;
        return (
          <li key={a.id}>
            <button
              type="button"
              className={`space-item${a.id === selectedId ? ' active' : ''}`}
              aria-current={a.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(a.id)}
              data-testid="action-item"
              data-action={a.id}
            >
              <span className="space-name">{a.id}</span>
              <span className={`origin-chip origin-${a.origin}`}>{ORIGIN_LABELS[a.origin]}</span>
              {a.approval && a.approval !== 'auto' ? (
                <span className={`approval-chip approval-${a.approval}`}>{a.approval}</span>
              ) : null}
              {n ? (
                <span className="count-chip" aria-label={`${plural(n, 'node')}`}>
                  {n}
                </span>
              ) : null}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
