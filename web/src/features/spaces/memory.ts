// Pure helpers of the memory space view: the file tree from the state's flat map, and how to preview a file.
import type { MemoryFile } from '../../api/types';
import { naturalCompare } from '../../lib/format';

export interface MemoryFolder {
  name: string;
  /** '/'-separated path from the root ('' for the root). */
  path: string;
  folders: MemoryFolder[];
  files: MemoryFile[];
}

/** The folder tree of a memory space: folders first, then files, each by name in natural order. */
export function fileTree(memory: Record<string, MemoryFile> | undefined): MemoryFolder {
  const root: MemoryFolder = { name: '', path: '', folders: [], files: [] };
  const index = new Map<string, MemoryFolder>([['', root]]);
  for (const path in memory ?? {}) {
    const parts = path.split('/');
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const at = parts.slice(0, i + 1).join('/');
      let f = index.get(at);
      if (!f) {
        f = { name: parts[i]!, path: at, folders: [], files: [] };
        index.set(at, f);
        parent.folders.push(f);
      }
      parent = f;
    }
    parent.files.push(memory![path]!);
  }
  const sort = (f: MemoryFolder) => {
    f.folders.sort((a, b) => naturalCompare(a.name, b.name));
    f.files.sort((a, b) => naturalCompare(a.path, b.path));
    f.folders.forEach(sort);
  };
  sort(root);
  return root;
}

/** The folders above a file (to open them when it is picked). */
export function foldersOf(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

export type PreviewKind = 'markdown' | 'code' | 'text' | 'image' | 'none';

const LANGUAGES: Record<string, string> = {
  py: 'python', js: 'javascript', mjs: 'javascript', ts: 'typescript', tsx: 'typescript', json: 'json',
  yaml: 'yaml', yml: 'yaml', toml: 'ini', sh: 'bash', sql: 'sql', c: 'c', h: 'c', rs: 'rust', go: 'go',
  java: 'java', css: 'css', csv: 'plaintext', tsv: 'plaintext',
};
const LANGUAGE_BY_TYPE: Record<string, string> = {
  'application/json': 'json', 'application/yaml': 'yaml', 'text/x-python': 'python', 'text/x-typescript': 'typescript',
  'text/x-shellscript': 'bash', 'text/x-sql': 'sql', 'text/x-c': 'c', 'text/x-rust': 'rust', 'text/x-go': 'go',
  'text/x-java': 'java', 'text/javascript': 'javascript', 'text/html': 'xml', 'application/xml': 'xml',
  'image/svg+xml': 'xml',
};
/** Images the server serves inline (SVG is served as a download: it can carry script). */
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** Text above this size is not previewed (download it instead). */
export const MAX_PREVIEW_BYTES = 512 * 1024;

function extension(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : '';
}

/** The highlight.js language of a code file (markup and scripts included: shown as text, never run), or null
 * for prose, plain text and binary files. */
export function codeLanguage(file: Pick<MemoryFile, 'path' | 'content_type'>): string | null {
  const byType = LANGUAGE_BY_TYPE[file.content_type];
  if (byType) return byType;
  return file.content_type.startsWith('text/') ? (LANGUAGES[extension(file.path)] ?? null) : null;
}

export function previewKind(file: Pick<MemoryFile, 'path' | 'content_type'>): PreviewKind {
  const type = file.content_type;
  if (IMAGES.has(type)) return 'image';
  if (type === 'text/markdown') return 'markdown';
  if (codeLanguage(file) !== null) return 'code';
  if (type.startsWith('text/')) return 'text';
  return 'none';
}

/** Code as a Markdown fence (longer than any run of backticks in it), so the shared renderer highlights it. */
export function codeFence(text: string, language: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${text}\n${fence}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
