import { describe, expect, it } from 'vitest';
import type { SwarmHistory, SwarmState } from '../../api/types';
import { emptyState, foldInPlace } from '../../fold/fold';
import fixture from '../../test/fixtures/fold-history.json';
import { dependencyLayer, dependencyLinks } from './dependencies';
import { TreeLayout } from './layout';

const history = fixture.history as unknown as SwarmHistory;

function layoutAt(seq: number): TreeLayout {
  const state: SwarmState = foldInPlace(emptyState(history.swarm_id), history.events.filter((e) => e.seq <= seq));
  const L = new TreeLayout();
  L.sync(state);
  return L;
}

describe('dependency edges', () => {
  it('link each subtask to the siblings it needs, from the state the engine produced', () => {
    const L = layoutAt(history.last_seq);
    const pairs = dependencyLinks(L).map(([a, b]) => [L.ids[a], L.ids[b]]);
    expect(pairs).toEqual([
      ['n.1', 'n.2'],
      ['n.1', 'n.3'],
    ]);
  });

  it('follow the history: none before the plan, both once the waiting subtasks exist', () => {
    const spawned = history.events.find((e) => e.type === 'node_spawned' && e.data.node.id === 'n.2')!;
    const layer = dependencyLayer();
    expect(layer.drawnIds(layoutAt(spawned.seq - 1))).toEqual([]);
    expect(layer.drawnIds(layoutAt(spawned.seq))).toEqual([['n.1', 'n.2']]);
  });
});
