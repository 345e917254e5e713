import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import MarkdownRenderer from './MarkdownRenderer';

afterEach(cleanup);

describe('message Markdown', () => {
  it('renders tables, highlighted code, LaTeX, and no raw HTML', () => {
    const md = [
      '| colour | hex |',
      '|---|---|',
      '| blue | `#00f` |',
      '',
      '```python',
      'def f(x):',
      '    return x + 1',
      '```',
      '',
      'Inline $e^{i\\pi} + 1 = 0$ and a block:',
      '',
      '$$',
      '\\int_0^1 x\\,dx = \\tfrac12',
      '$$',
      '',
      '<script>alert(1)</script>',
      '',
      'A [link](https://example.org) and <b onclick="x()">raw</b> HTML.',
    ].join('\n');
    const { container } = render(<MarkdownRenderer>{md}</MarkdownRenderer>);
    expect(container.querySelector('table td')?.textContent).toBe('blue');
    const code = container.querySelector('pre code.hljs');
    expect(code).not.toBeNull();
    expect(code!.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(container.querySelectorAll('.katex').length).toBeGreaterThanOrEqual(2);
    expect(container.querySelector('.katex-display')).not.toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('[onclick]')).toBeNull();
    const a = container.querySelector('a')!;
    expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    expect(a.getAttribute('target')).toBe('_blank');
  });

  it('renders Markdown bombs (3,000 nested quotes, lists, emphasis, brackets) without overflowing the stack', () => {
    const bombs = [
      '> '.repeat(3000) + 'a',
      '- '.repeat(3000) + 'a',
      '*'.repeat(5000) + 'a' + '*'.repeat(5000),
      '['.repeat(5000) + 'a' + ']'.repeat(5000),
    ];
    for (const md of bombs) {
      const { container, unmount } = render(<MarkdownRenderer>{md}</MarkdownRenderer>);
      expect(container.textContent).toContain('a');
      expect(container.querySelector('.md-plain'), md.slice(0, 8)).not.toBeNull();
      unmount();
    }
  });

  it('still formats ordinary nesting', () => {
    const md = '> quoted\n> > twice\n\n- a\n  - b\n    - c **bold**';
    const { container } = render(<MarkdownRenderer>{md}</MarkdownRenderer>);
    expect(container.querySelectorAll('blockquote')).toHaveLength(2);
    expect(container.querySelectorAll('ul')).toHaveLength(3);
    expect(container.querySelector('strong')?.textContent).toBe('bold');
    expect(container.querySelector('.md-plain')).toBeNull();
  });

  it('shows $$...$$ written inline as a display block, and $...$ inline', () => {
    const { container } = render(<MarkdownRenderer>{'The area:\n\n$$\\pi r^2$$\n\nand $x$ inline.'}</MarkdownRenderer>);
    expect(container.querySelectorAll('.katex-display')).toHaveLength(1);
    expect(container.querySelectorAll('.katex')).toHaveLength(2);
  });

  it('task-list boxes are read-only, labelled and on their line', () => {
    const { container } = render(<MarkdownRenderer>{'- [x] buy paint\n- [ ] paint'}</MarkdownRenderer>);
    const boxes = [...container.querySelectorAll('input[type=checkbox]')] as HTMLInputElement[];
    expect(boxes.map((b) => [b.checked, b.disabled, b.getAttribute('aria-label'), b.className])).toEqual([
      [true, true, 'Done', 'md-task'],
      [false, true, 'Not done', 'md-task'],
    ]);
    expect(boxes[0]!.closest('li')!.textContent).toBe(' buy paint');
  });

  it('does not load remote images until asked: a placeholder names the host', async () => {
    const md = '![a chart](https://img.example.com/c.png) and ![](http://plain.example.net/x.png)';
    const { container } = render(<MarkdownRenderer>{md}</MarkdownRenderer>);
    expect(container.querySelector('img')).toBeNull();
    const [first, second] = screen.getAllByTestId('image-placeholder');
    expect(first!.textContent).toContain('“a chart” from img.example.com, not loaded.');
    expect(second!.textContent).toContain('plain.example.net');
    expect(second!.querySelector('a')?.getAttribute('href')).toBe('http://plain.example.net/x.png');
    await userEvent.click(screen.getByRole('button', { name: 'Load image' }));
    const img = container.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('https://img.example.com/c.png');
    expect(img.getAttribute('alt')).toBe('a chart');
    expect(container.querySelectorAll('img')).toHaveLength(1);
  });
});
