import { describe, expect, it } from 'vitest';
import { bracketDepth, containerDepth, delimiterRun, MAX_BRACKET_DEPTH, sourceTooNested, treeDepth } from './markdownLimits';

describe('Markdown nesting bounds', () => {
  it('measures a tree 100,000 levels deep without recursion', () => {
    const root = { type: 'root', children: [] as unknown[] } as { type: string; children: unknown[] };
    let node = root;
    for (let i = 0; i < 100_000; i++) {
      const child = { type: 'blockquote', children: [] as unknown[] };
      node.children.push(child);
      node = child as typeof root;
    }
    expect(treeDepth(root as never)).toBe(100_000);
    expect(treeDepth(root as never, 10)).toBe(11); // stops counting past the limit
  });

  it('counts unclosed brackets in the source', () => {
    expect(bracketDepth('[a](b) [[c]]')).toBe(2);
    expect(bracketDepth(']]]][')).toBe(1);
    expect(sourceTooNested('['.repeat(MAX_BRACKET_DEPTH))).toBe(false);
    expect(sourceTooNested('['.repeat(MAX_BRACKET_DEPTH + 1))).toBe(true);
  });

  it('counts the containers a line opens and the longest run of emphasis marks', () => {
    expect(containerDepth('> a\n> > - b\n1. c')).toBe(3);
    expect(containerDepth('      - deep by indentation')).toBe(4);
    expect(containerDepth('-not a list\n12.5 not one either')).toBe(0);
    expect(delimiterRun('**bold** and ~~struck~~ ***both***')).toBe(3);
    expect(sourceTooNested('> '.repeat(3000) + 'a')).toBe(true);
    expect(sourceTooNested('- '.repeat(3000) + 'a')).toBe(true);
    expect(sourceTooNested('*'.repeat(5000) + 'a')).toBe(true);
    expect(sourceTooNested('> quote\n\n- a\n  - b\n\n**bold** [link](x)')).toBe(false);
  });
});
