// Pure helpers of the action space view: which nodes routed to which action, and walking the folder tree.
import type { ActionFolderInfo, ActionInfo, ActionOrigin, SwarmState } from '../../api/types';
import { naturalCompare } from '../../lib/format';

export const ORIGIN_LABELS: Record<ActionOrigin, string> = {
  built_in: 'Built-in',
  tool: 'Built-in tool',
  mcp: 'MCP tool',
  custom: 'Custom',
};

export const APPROVAL_LABELS: Record<NonNullable<ActionInfo['approval']>, string> = {
  auto: 'Runs without asking',
  ask: 'Asks you before each call',
  deny: 'Never runs (denied by the operator)',
};

/** Node ids by the action they run, in natural id order (n.2 before n.10). */
export function nodesByAction(state: SwarmState | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!state) return out;
  for (const id in state.nodes) {
    const action = state.nodes[id]!.action_id;
    const list = out.get(action);
    if (list) list.push(id);
    else out.set(action, [id]);
  }
  for (const list of out.values()) list.sort(naturalCompare);
  return out;
}

/** Every action under a folder, with the folder path it sits in. */
export function allActions(folder: ActionFolderInfo): { action: ActionInfo; folder: string }[] {
  const out: { action: ActionInfo; folder: string }[] = [];
  const walk = (f: ActionFolderInfo) => {
    for (const a of f.actions) out.push({ action: a, folder: f.path });
    for (const sub of f.folders) walk(sub);
  };
  walk(folder);
  return out;
}

/** How many nodes ran an action of this folder (or its subfolders). */
export function folderCount(folder: ActionFolderInfo, counts: Map<string, string[]>): number {
  let n = 0;
  for (const { action } of allActions(folder)) n += counts.get(action.id)?.length ?? 0;
  return n;
}

/** The folder paths to open so that `actionId` shows (its folder and every folder above it). */
export function foldersAbove(root: ActionFolderInfo, actionId: string): string[] {
  const found = allActions(root).find((x) => x.action.id === actionId);
  if (!found || !found.folder) return [];
  const parts = found.folder.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

export interface SchemaField {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** The top-level properties of a JSON Schema, as rows for a table (anything else is shown as JSON). */
export function schemaFields(schema: Record<string, unknown> | null): SchemaField[] {
  if (!schema || typeof schema.properties !== 'object' || schema.properties === null) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(schema.properties as Record<string, Record<string, unknown>>).map(([name, p]) => ({
    name,
    type: typeName(p),
    required: required.has(name),
    description: typeof p?.description === 'string' ? p.description : '',
  }));
}

function typeName(p: Record<string, unknown> | undefined): string {
  if (!p) return 'any';
  if (typeof p.type === 'string') {
    if (p.type === 'array' && p.items && typeof p.items === 'object') return `${typeName(p.items as Record<string, unknown>)}[]`;
    return p.type;
  }
  if (Array.isArray(p.type)) return p.type.join(' | ');
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(p[key])) return (p[key] as Record<string, unknown>[]).map(typeName).join(' | ');
  }
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  return 'any';
}
