import { describe, expect, it } from 'vitest';
import type { MemoryFile } from '../../api/types';
import { codeFence, codeLanguage, fileTree, foldersOf, formatBytes, previewKind } from './memory';

function file(path: string, content_type = 'text/plain'): MemoryFile {
  return { path, title: path, size: 1, content_type, node_id: null, seq: 1 };
}

describe('memory space helpers', () => {
  it('builds the folder tree: folders first, natural order, files under their folders', () => {
    const memory = Object.fromEntries(
      ['uploads/b.md', 'notes/plan-10.md', 'notes/plan-2.md', 'top.txt', 'notes/deep/x.py'].map((p) => [p, file(p)]),
    );
    const tree = fileTree(memory);
    expect(tree.folders.map((f) => f.path)).toEqual(['notes', 'uploads']);
    expect(tree.files.map((f) => f.path)).toEqual(['top.txt']);
    const notes = tree.folders[0]!;
    expect(notes.folders.map((f) => [f.name, f.path])).toEqual([['deep', 'notes/deep']]);
    expect(notes.files.map((f) => f.path)).toEqual(['notes/plan-2.md', 'notes/plan-10.md']);
    expect(fileTree(undefined).files).toEqual([]);
    expect(foldersOf('a/b/c.md')).toEqual(['a', 'a/b']);
    expect(foldersOf('c.md')).toEqual([]);
  });

  it('picks a preview by type: Markdown, code, plain text, images; markup only as code, binaries none', () => {
    expect(previewKind(file('a.md', 'text/markdown'))).toBe('markdown');
    expect(previewKind(file('a.py', 'text/x-python'))).toBe('code');
    expect(codeLanguage(file('a.py', 'text/x-python'))).toBe('python');
    expect(codeLanguage(file('a.json', 'application/json'))).toBe('json');
    expect(codeLanguage(file('page.html', 'text/html'))).toBe('xml');
    expect(previewKind(file('notes.txt'))).toBe('text');
    expect(previewKind(file('pic.png', 'image/png'))).toBe('image');
    expect(previewKind(file('logo.svg', 'image/svg+xml'))).toBe('code');
    expect(previewKind(file('doc.pdf', 'application/pdf'))).toBe('none');
    // a binary type named like code is not read as text
    expect(previewKind(file('x.py', 'application/octet-stream'))).toBe('none');
  });

  it('fences code longer than any backtick run in it', () => {
    expect(codeFence('a = 1', 'python')).toBe('```python\na = 1\n```');
    expect(codeFence('s = "````"', 'python')).toBe('`````python\ns = "````"\n`````');
  });

  it('formats sizes', () => {
    expect(formatBytes(12)).toBe('12 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(50 * 1024)).toBe('50 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});
