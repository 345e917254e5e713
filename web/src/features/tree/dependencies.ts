// Dependency edges: a subtask that needs others (Node.needs, ids of its siblings) is linked to each of them by
// a dashed curve, drawn as an EdgeLayer over the tree's solid parent -> child edges. Needs are fixed when a
// node is created, so the pairs are rebuilt only when the layout's node index changes.
import type { EdgeLayer, EdgeStyle } from './edges';
import type { TreeLayout } from './layout';

/** Dashed and in a colour no lifecycle uses, so it reads as "needs", never as a tree edge or a state. */
export const DEPENDENCY_EDGE: EdgeStyle = { colour: '#db2777', dash: [6, 4], width: 1.75 };

/** [prerequisite, dependent] index pairs of every dependency edge in the layout. */
export function dependencyLinks(L: TreeLayout): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < L.refs.length; i++) {
    const needs = L.refs[i]?.needs;
    if (!needs?.length) continue;
    for (const id of needs) {
      const p = L.index.get(id);
      if (p !== undefined) out.push([p, i]);
    }
  }
  return out;
}

export function dependencyLayer(): EdgeLayer & { drawnIds(L: TreeLayout): Array<[string, string]> } {
  let swarm = '';
  let structure = -1;
  let pairs: Array<readonly [number, number]> = [];
  const links = (L: TreeLayout) => {
    if (L.swarmId !== swarm || L.structure !== structure) {
      swarm = L.swarmId;
      structure = L.structure;
      pairs = dependencyLinks(L);
    }
    return pairs;
  };
  return {
    kind: 'dependency',
    style: DEPENDENCY_EDGE,
    links,
    drawnIds: (L) => links(L).map(([a, b]) => [L.ids[a]!, L.ids[b]!]),
  };
}
