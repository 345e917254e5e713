// The app's API types, all derived from the generated OpenAPI types (src/api/schema.d.ts).
// Nothing here restates a shape by hand: request and response bodies are read off `paths`,
// and the wire models off `components['schemas']`.
import type { components, paths } from './schema';

type Schemas = components['schemas'];

/**
 * The server serialises every field of a pydantic model (defaults included), so in a response every
 * property is present even where the JSON Schema calls it optional. `Wire` states that, one level deep.
 */
export type Wire<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

// ---- wire models (responses) -------------------------------------------------------------------
export type Swarm = Wire<Schemas['Swarm']>;
export type SwarmListItem = Wire<Schemas['SwarmListItem']>;
export type SwarmPage = Omit<Wire<Schemas['SwarmPage']>, 'items'> & { items: SwarmListItem[] };
/** A swarm with its outcome and how many chats wait on the person (list items carry an outcome preview). */
export type SwarmSummary = Wire<Schemas['SwarmSummary']>;
export type SwarmStatus = Schemas['SwarmStatus'];
export type SwarmConfig = Wire<Schemas['SwarmConfig']>;
export type Node = Wire<Schemas['Node']>;
export type Lifecycle = Schemas['Lifecycle'];
export type ActionType = Schemas['ActionType'];
export type ChatSummary = Wire<Schemas['ChatSummary']>;
export type ChatStatus = Schemas['ChatStatus'];
export type Message = Wire<Schemas['Message']>;
/** As a message or a node carries it (its `seq` may be left out by old histories). */
export type Attachment = Schemas['Attachment'];
export type MessageRole = Schemas['MessageRole'];
export type JournalEntry = Wire<Schemas['JournalEntry']>;
export type LLMCall = Wire<Schemas['LLMCall']>;
export type PromptMessage = Wire<Schemas['PromptMessage']>;
export type Usage = Wire<Schemas['Usage']>;
export type EventType = Schemas['EventType'];

/** A model an event carries whole (a spawned node, a posted message) arrives complete, like any response's. */
type Complete<T> = T extends Schemas['Node'] ? Node : T extends Schemas['Message'] ? Message : T;
type WireData<D> = { [K in keyof D]: Complete<D[K]> };
/**
 * One event: the OpenAPI `SwarmEvent` is a union discriminated by `type` (one model per type, generated from
 * `schemas/events.py`), so `switch (event.type)` narrows `event.data` to that type's payload.
 */
export type SwarmEvent = Schemas['SwarmEvent'] extends infer E
  ? E extends { data: infer D } ? Omit<Wire<E>, 'data'> & { data: WireData<D> } : never
  : never;
/** An event without its place in a history (what a generator or a test writes before numbering it). */
export type EventBody = SwarmEvent extends infer E ? (E extends SwarmEvent ? Omit<E, 'swarm_id' | 'seq' | 'ts'> : never) : never;
/** The event of one type, e.g. `EventOf<'node_updated'>`. */
export type EventOf<T extends EventType> = Extract<SwarmEvent, { type: T }>;
export type SwarmHistory = Omit<Wire<Schemas['SwarmHistory']>, 'events'> & { events: SwarmEvent[] };
export type NodeDetail = {
  node: Node;
  journal: JournalEntry[];
  llm_calls: LLMCall[];
  continuation: Wire<Schemas['NodeDetail']>['continuation'];
};
export type Continuation = Wire<Schemas['Continuation']>;

export type MemoryFile = Wire<Schemas['MemoryFile']>;
export type ActionInfo = Wire<Schemas['ActionInfo']>;
export type ActionOrigin = Schemas['ActionOrigin'];
export type ActionFolderInfo = Omit<Wire<Schemas['ActionFolderInfo']>, 'folders' | 'actions'> & {
  folders: ActionFolderInfo[];
  actions: ActionInfo[];
};
export type SwarmActionSpace = Omit<Wire<Schemas['SwarmActionSpace']>, 'root'> & { root: ActionFolderInfo };
export type MemoryListing = Omit<Wire<Schemas['MemoryListing']>, 'files'> & { files: MemoryFile[] };

/** SwarmState with its maps holding complete wire objects. */
export type SwarmState = Omit<Wire<Schemas['SwarmState']>, 'nodes' | 'chats' | 'usage' | 'memory'> & {
  nodes: Record<string, Node>;
  chats: Record<string, ChatSummary>;
  usage: Usage;
  memory: Record<string, MemoryFile>;
};

// ---- request and response bodies, read off the paths --------------------------------------------
type JsonBody<Op> = Op extends { requestBody?: infer RB }
  ? NonNullable<RB> extends { content: { 'application/json': infer B } }
    ? B
    : never
  : never;
type JsonResponse<Op, Code extends number> = Op extends { responses: infer R }
  ? Code extends keyof R
    ? R[Code] extends { content: { 'application/json': infer B } }
      ? B
      : never
    : never
  : never;

export type SignupBody = JsonBody<paths['/api/auth/signup']['post']>;
export type LoginBody = JsonBody<paths['/api/auth/login']['post']>;
export type PasswordChangeBody = JsonBody<paths['/api/auth/password']['post']>;
export type AuthResponse = Wire<JsonResponse<paths['/api/auth/login']['post'], 200>>;
export type User = Wire<JsonResponse<paths['/api/me']['get'], 200>>;
export type CreateSwarmBody = JsonBody<paths['/api/swarms']['post']>;
export type UpdateSwarmBody = JsonBody<paths['/api/swarms/{swarm_id}']['patch']>;
export type CloneSwarmBody = JsonBody<paths['/api/swarms/{swarm_id}/clone']['post']>;
export type AutoApproveBody = JsonBody<paths['/api/swarms/{swarm_id}/auto_approve']['put']>;
export type AutoApproveState = Schemas['AutoApproveState'];
export type PostMessageBody = JsonBody<paths['/api/swarms/{swarm_id}/chats/{chat_id}/messages']['post']>;
export type StateQuery = NonNullable<paths['/api/swarms/{swarm_id}/state']['get']['parameters']['query']>;
export type HistoryQuery = NonNullable<paths['/api/swarms/{swarm_id}/history']['get']['parameters']['query']>;

// ---- the socket's notice ------------------------------------------------------------------------
export type SwarmNotice = Wire<Schemas['SwarmNotice']>;
export type NoticeKind = SwarmNotice['kind'];

// ---- the enumerations as runtime lists (typed against the generated unions) ----------------------
export const LIFECYCLES = [
  'spawned',
  'running',
  'waiting_llm',
  'waiting_user',
  'waiting_children',
  'done',
  'failed',
  'cancelled',
  'waiting_deps', // last: lifecycle indices (tree layout buffers) stay as they were
] as const satisfies readonly Lifecycle[];
export const ACTION_TYPES = ['plan', 'route', 'ask', 'do', 'review', 'custom'] as const satisfies readonly ActionType[];
export const SWARM_STATUSES = [
  'draft',
  'running',
  'paused',
  'completed',
  'failed',
] as const satisfies readonly SwarmStatus[];

// Compile-time proof that the runtime lists cover the generated unions exactly.
type Exhaustive<A extends readonly string[], U extends string> = [U] extends [A[number]] ? true : never;
export const _lifecyclesComplete: Exhaustive<typeof LIFECYCLES, Lifecycle> = true;
export const _actionTypesComplete: Exhaustive<typeof ACTION_TYPES, ActionType> = true;
export const _statusesComplete: Exhaustive<typeof SWARM_STATUSES, SwarmStatus> = true;
