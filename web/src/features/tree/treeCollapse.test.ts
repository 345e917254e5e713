import { describe, expect, it } from 'vitest';
import { syntheticState } from '../../bench/synthetic';
import { withoutAncestors } from './TreePage';

describe('a selected node inside collapsed subtrees', () => {
  const state = syntheticState(300);
  const deep = Object.values(state.nodes).find((n) => n.depth === 3)!;
  const parent = deep.parent_id!;
  const grand = state.nodes[parent]!.parent_id!;

  it('opens the collapsed subtrees around it, and only those', () => {
    const other = Object.values(state.nodes).find((n) => n.depth === 1 && n.id !== grand && n.children.length)!.id;
    expect(withoutAncestors([grand, other, parent], state, deep.id)).toEqual([other]);
  });

  it('keeps the same list when nothing hides it (no re-render)', () => {
    const collapsed = [deep.id];
    expect(withoutAncestors(collapsed, state, deep.id)).toBe(collapsed);
    expect(withoutAncestors(collapsed, state, null)).toBe(collapsed);
    expect(withoutAncestors(collapsed, state, 'no-such-node')).toBe(collapsed);
  });
});
