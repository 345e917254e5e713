import { describe, expect, it } from 'vitest';
import type { ActionFolderInfo, ActionInfo, SwarmState } from '../../api/types';
import { emptyState } from '../../fold/fold';
import { allActions, folderCount, foldersAbove, nodesByAction, schemaFields } from './actions';

function action(id: string, extra: Partial<ActionInfo> = {}): ActionInfo {
  return {
    id,
    description: id,
    action_type: 'do',
    origin: 'built_in',
    routable: true,
    termination_policy: 'all',
    input_schema: null,
    approval: null,
    read_only: null,
    idempotent: null,
    server: null,
    ...extra,
  };
}

const root: ActionFolderInfo = {
  id: 'actions',
  path: '',
  description: '',
  actions: [action('plan')],
  folders: [
    {
      id: 'fs',
      path: 'fs',
      description: '',
      actions: [action('fs.read', { origin: 'mcp' })],
      folders: [{ id: 'deep', path: 'fs/deep', description: '', actions: [action('fs.deep.x')], folders: [] }],
    },
  ],
};

function stateWith(actions: Record<string, string>): SwarmState {
  const s = emptyState('s1');
  for (const [id, actionId] of Object.entries(actions)) {
    s.nodes[id] = { id, action_id: actionId } as SwarmState['nodes'][string];
  }
  return s;
}

describe('action space helpers', () => {
  it('groups node ids by action in natural order', () => {
    const counts = nodesByAction(stateWith({ 'n.10': 'fs.read', n: 'plan', 'n.2': 'fs.read', 'n.1': 'fs.deep.x' }));
    expect(counts.get('fs.read')).toEqual(['n.2', 'n.10']);
    expect(counts.get('plan')).toEqual(['n']);
    expect(nodesByAction(null).size).toBe(0);
  });

  it('walks folders: every action with its folder, counts per folder, the folders above an action', () => {
    expect(allActions(root).map((x) => [x.action.id, x.folder])).toEqual([
      ['plan', ''],
      ['fs.read', 'fs'],
      ['fs.deep.x', 'fs/deep'],
    ]);
    const counts = nodesByAction(stateWith({ 'n.1': 'fs.read', 'n.2': 'fs.deep.x', n: 'plan' }));
    expect(folderCount(root.folders[0]!, counts)).toBe(2);
    expect(foldersAbove(root, 'fs.deep.x')).toEqual(['fs', 'fs/deep']);
    expect(foldersAbove(root, 'plan')).toEqual([]);
    expect(foldersAbove(root, 'missing')).toEqual([]);
  });

  it('reads a JSON Schema into rows: types, required, descriptions', () => {
    const rows = schemaFields({
      type: 'object',
      required: ['path'],
      properties: {
        path: { type: 'string', description: 'Where' },
        tags: { type: 'array', items: { type: 'string' } },
        title: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        mode: { enum: ['a', 'b'] },
      },
    });
    expect(rows).toEqual([
      { name: 'path', type: 'string', required: true, description: 'Where' },
      { name: 'tags', type: 'string[]', required: false, description: '' },
      { name: 'title', type: 'string | null', required: false, description: '' },
      { name: 'mode', type: '"a" | "b"', required: false, description: '' },
    ]);
    expect(schemaFields(null)).toEqual([]);
    expect(schemaFields({ type: 'object' })).toEqual([]);
  });
});
