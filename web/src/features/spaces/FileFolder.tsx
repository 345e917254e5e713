import { formatBytes, type MemoryFolder } from './memory';

interface FileFolderProps {
  folder: MemoryFolder;
  closed: string[];
  selected: string | null;
  onToggle(path: string): void;
  onSelect(path: string): void;
  top?: boolean;
}

export default function FileFolder({ folder, closed, selected, onToggle, onSelect, top }: FileFolderProps) {
  return (
    <ul className={top ? 'space-list space-list-top' : 'space-list'}>
      {folder.folders.map((f) => {
        const open = !closed.includes(f.path);
        return (
          <li key={f.path} className="space-folder">
            <button type="button" className="space-folder-button" aria-expanded={open} onClick={() => onToggle(f.path)}>
              <span aria-hidden="true" className="space-caret">
                {open ? '▾' : '▸'}
              </span>
              <span className="space-name">{f.name}/</span>
            </button>
            {open ? (
              <FileFolder folder={f} closed={closed} selected={selected} onToggle={onToggle} onSelect={onSelect} />
            ) : null}
          </li>
        );
      })}
      {folder.files.map((file) => {
        const name = file.path.slice(file.path.lastIndexOf('/') + 1);
        const active = file.path === selected;
        return (
          <li key={file.path}>
            <button
              type="button"
              className={`space-item${active ? ' active' : ''}`}
              aria-current={active ? 'true' : undefined}
              onClick={() => onSelect(file.path)}
              data-testid="memory-file"
              data-path={file.path}
            >
              <span className="space-name">{name}</span>
              <span className="hint">{formatBytes(file.size)}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
