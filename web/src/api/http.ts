// All HTTP goes through this RTK Query API. A 401 on any call but the auth ones means the session
// expired: the app returns to the login page and keeps the location to come back to.
import { createApi, fetchBaseQuery, type BaseQueryFn, type FetchArgs, type FetchBaseQueryError } from '@reduxjs/toolkit/query/react';
import { sessionExpired } from '../features/auth/authSlice';
import type {
  AuthResponse,
  AutoApproveBody,
  AutoApproveState,
  CloneSwarmBody,
  CreateSwarmBody,
  LoginBody,
  MemoryFile,
  Message,
  PasswordChangeBody,
  Node,
  NodeDetail,
  SignupBody,
  Swarm,
  SwarmSummary,
  SwarmActionSpace,
  SwarmConfig,
  SwarmHistory,
  SwarmListItem,
  SwarmPage,
  SwarmState,
  UpdateSwarmBody,
  User,
} from './types';

export type ApiError = FetchBaseQueryError & { retryAfter?: number | null };

// Absolute, so the same code runs under jsdom in unit tests; same-origin in the browser.
const API_BASE = typeof window !== 'undefined' && window.location?.origin ? `${window.location.origin}/api` : '/api';
const rawBaseQuery = fetchBaseQuery({ baseUrl: API_BASE, credentials: 'same-origin', timeout: 30_000 });
const AUTH_ENDPOINTS = new Set(['login', 'signup', 'me', 'logout']);

const baseQuery: BaseQueryFn<string | FetchArgs, unknown, ApiError> = async (args, api, extra) => {
  const result = await rawBaseQuery(args, api, extra);
  if (result.error) {
    const retry = result.meta?.response?.headers.get('Retry-After');
    const error: ApiError = { ...result.error, retryAfter: retry ? Number(retry) : null };
    if (error.status === 401 && !AUTH_ENDPOINTS.has(api.endpoint)) api.dispatch(sessionExpired());
    return { error, meta: result.meta };
  }
  return result;
};

export interface SwarmArg {
  swarmId: string;
}
export interface ChatArg extends SwarmArg {
  chatId: string;
}

export const api = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['Swarm', 'Configs', 'Node', 'Actions'],
  endpoints: (b) => ({
    // ---- auth ----
    me: b.query<User, void>({ query: () => '/me' }),
    login: b.mutation<AuthResponse, LoginBody>({ query: (body) => ({ url: '/auth/login', method: 'POST', body }) }),
    signup: b.mutation<AuthResponse, SignupBody>({ query: (body) => ({ url: '/auth/signup', method: 'POST', body }) }),
    logout: b.mutation<null, void>({ query: () => ({ url: '/auth/logout', method: 'POST' }) }),
    logoutAll: b.mutation<null, void>({ query: () => ({ url: '/auth/logout-all', method: 'POST' }) }),
    changePassword: b.mutation<null, PasswordChangeBody>({
      query: (body) => ({ url: '/auth/password', method: 'POST', body }),
    }),

    // ---- swarms ----
    configs: b.query<SwarmConfig[], void>({ query: () => '/configs', providesTags: ['Configs'] }),
    // The list comes a page at a time (newest first); fetchNextPage follows the server's cursor.
    listSwarms: b.infiniteQuery<SwarmPage, void, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (last) => last.next_cursor ?? undefined,
      },
      query: ({ pageParam }) => ({ url: '/swarms', params: pageParam ? { cursor: pageParam } : undefined }),
      providesTags: (r) => [
        { type: 'Swarm', id: 'LIST' },
        ...(r?.pages ?? []).flatMap((p) => p.items).map((s) => ({ type: 'Swarm' as const, id: s.id })),
      ],
    }),
    getSwarm: b.query<SwarmSummary, string>({ query: (id) => `/swarms/${id}`, providesTags: (_r, _e, id) => [{ type: 'Swarm', id }] }),
    createSwarm: b.mutation<Swarm, CreateSwarmBody & { files?: File[] }>({
      query: ({ files, ...body }) => ({ url: '/swarms', method: 'POST', body: swarmBody(body, files) }),
      invalidatesTags: [{ type: 'Swarm', id: 'LIST' }],
    }),
    updateSwarm: b.mutation<Swarm, SwarmArg & { body: UpdateSwarmBody }>({
      query: ({ swarmId, body }) => ({ url: `/swarms/${swarmId}`, method: 'PATCH', body }),
      invalidatesTags: (_r, _e, { swarmId }) => [{ type: 'Swarm', id: swarmId }],
    }),
    deleteSwarm: b.mutation<null, string>({
      query: (id) => ({ url: `/swarms/${id}`, method: 'DELETE' }),
      invalidatesTags: [{ type: 'Swarm', id: 'LIST' }],
    }),
    swarmAction: b.mutation<Swarm, SwarmArg & { action: 'spawn' | 'pause' | 'resume' }>({
      query: ({ swarmId, action }) => ({ url: `/swarms/${swarmId}/${action}`, method: 'POST' }),
      invalidatesTags: (_r, _e, { swarmId }) => [{ type: 'Swarm', id: swarmId }],
    }),
    autoApprove: b.mutation<AutoApproveState, SwarmArg & { body: AutoApproveBody }>({
      query: ({ swarmId, body }) => ({ url: `/swarms/${swarmId}/auto_approve`, method: 'PUT', body }),
    }),
    cloneSwarm: b.mutation<Swarm, SwarmArg & { body: CloneSwarmBody }>({
      query: ({ swarmId, body }) => ({ url: `/swarms/${swarmId}/clone`, method: 'POST', body }),
      invalidatesTags: [{ type: 'Swarm', id: 'LIST' }],
    }),

    // ---- state and history (fetched on demand by thunks, not cached) ----
    getState: b.query<SwarmState, SwarmArg & { at?: number }>({
      query: ({ swarmId, at }) => ({ url: `/swarms/${swarmId}/state`, params: at === undefined ? undefined : { at } }),
      keepUnusedDataFor: 0,
    }),
    getHistory: b.query<SwarmHistory, SwarmArg & { after: number; limit?: number }>({
      query: ({ swarmId, after, limit }) => ({ url: `/swarms/${swarmId}/history`, params: { after, limit: limit ?? 1000 } }),
      keepUnusedDataFor: 0,
    }),
    nodeDetail: b.query<NodeDetail, SwarmArg & { nodeId: string; at?: number }>({
      query: ({ swarmId, nodeId, at }) => ({
        url: `/swarms/${swarmId}/nodes/${encodeURIComponent(nodeId)}`,
        params: at === undefined ? undefined : { at },
      }),
      providesTags: (_r, _e, { swarmId, nodeId }) => [{ type: 'Node', id: `${swarmId}/${nodeId}` }],
    }),

    // ---- steering a node ----
    steerNode: b.mutation<Node, SwarmArg & { nodeId: string; action: 'cancel' | 'retry' }>({
      query: ({ swarmId, nodeId, action }) => ({
        url: `/swarms/${swarmId}/nodes/${encodeURIComponent(nodeId)}/${action}`,
        method: 'POST',
      }),
      invalidatesTags: (_r, _e, { swarmId, nodeId }) => [{ type: 'Node', id: `${swarmId}/${nodeId}` }],
    }),
    tellNode: b.mutation<Message, SwarmArg & { nodeId: string; content: string; files?: File[] }>({
      query: ({ swarmId, nodeId, content, files }) => ({
        url: `/swarms/${swarmId}/nodes/${encodeURIComponent(nodeId)}/tell`,
        method: 'POST',
        body: messageBody(content, files),
      }),
    }),

    // ---- the action space and the memory space ----
    actionSpace: b.query<SwarmActionSpace, string>({
      query: (id) => `/swarms/${id}/actions`,
      providesTags: (_r, _e, id) => [{ type: 'Actions', id }],
    }),
    // One version of a file (path + the seq that wrote it) never changes, so its text is cached as is.
    memoryText: b.query<string, SwarmArg & { path: string; seq: number }>({
      query: ({ swarmId, path, seq }) => ({
        url: memoryFilePath(swarmId, path),
        params: { at: seq },
        responseHandler: 'text',
      }),
      keepUnusedDataFor: 120,
    }),
    uploadMemory: b.mutation<MemoryFile[], SwarmArg & { files: File[]; folder?: string }>({
      query: ({ swarmId, files, folder }) => {
        const body = new FormData();
        for (const f of files) body.append('file', f, f.name);
        if (folder !== undefined) body.append('folder', folder);
        return { url: `/swarms/${swarmId}/memory`, method: 'POST', body };
      },
    }),

    // ---- chats ----
    messages: b.query<Message[], ChatArg>({
      query: ({ swarmId, chatId }) => `/swarms/${swarmId}/chats/${encodeURIComponent(chatId)}/messages`,
    }),
    postMessage: b.mutation<Message, ChatArg & { content: string; files?: File[] }>({
      query: ({ swarmId, chatId, content, files }) => ({
        url: `/swarms/${swarmId}/chats/${encodeURIComponent(chatId)}/messages`,
        method: 'POST',
        body: messageBody(content, files),
      }),
    }),
  }),
});

export const {
  useMeQuery,
  useLoginMutation,
  useSignupMutation,
  useLogoutMutation,
  useLogoutAllMutation,
  useChangePasswordMutation,
  useConfigsQuery,
  useListSwarmsInfiniteQuery,
  useGetSwarmQuery,
  useCreateSwarmMutation,
  useUpdateSwarmMutation,
  useDeleteSwarmMutation,
  useSwarmActionMutation,
  useCloneSwarmMutation,
  useAutoApproveMutation,
  useNodeDetailQuery,
  useMessagesQuery,
  usePostMessageMutation,
  useSteerNodeMutation,
  useTellNodeMutation,
  useActionSpaceQuery,
  useMemoryTextQuery,
  useUploadMemoryMutation,
} = api;

/** A reply's or a tell's body: JSON for text alone, multipart (`content` and `file` parts) when it carries
 * files; the server stores each file in the memory space under uploads/ and hands it to the node. */
export function messageBody(content: string, files?: readonly File[]): { content: string } | FormData {
  if (!files?.length) return { content };
  const form = new FormData();
  form.append('content', content);
  for (const f of files) form.append('file', f, f.name);
  return form;
}

/** A new swarm's body: JSON, or multipart with the goal's files (its root receives them when spawned). */
export function swarmBody(body: CreateSwarmBody, files?: readonly File[]): CreateSwarmBody | FormData {
  if (!files?.length) return body;
  const form = new FormData();
  form.append('goal', body.goal);
  if (body.name) form.append('name', body.name);
  if (body.config) form.append('config', body.config);
  for (const f of files) form.append('file', f, f.name);
  return form;
}

/** A memory file's route, below the API base (each path segment encoded; the slashes kept). */
export function memoryFilePath(swarmId: string, path: string): string {
  return `/swarms/${swarmId}/memory/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** A memory file's URL for links and images (same origin: the session cookie goes with it). */
export function memoryFileUrl(swarmId: string, path: string, opts: { at?: number; download?: boolean } = {}): string {
  const params = new URLSearchParams();
  if (opts.at !== undefined) params.set('at', String(opts.at));
  if (opts.download) params.set('download', 'true');
  const q = params.toString();
  return `/api${memoryFilePath(swarmId, path)}${q ? `?${q}` : ''}`;
}

export const GOAL_PREVIEW_CHARS = 200;

/** A change to a swarm as the list keeps it: the goal only as its beginning and length. */
function listPatch(patch: Partial<Swarm>): Partial<SwarmListItem> {
  const { goal, ...rest } = patch;
  return goal === undefined ? rest : { ...rest, goal_preview: goal.slice(0, GOAL_PREVIEW_CHARS), goal_chars: goal.length };
}

/** Every swarm of the cached list pages. */
export function listedSwarms(data: { pages: SwarmPage[] } | undefined): SwarmListItem[] {
  return (data?.pages ?? []).flatMap((p) => p.items);
}

/** Apply a change to one swarm in the cached list pages and single-swarm entries. */
export function patchSwarmCaches(dispatch: (a: unknown) => unknown, swarmId: string, patch: Partial<Swarm>) {
  dispatch(
    api.util.updateQueryData('listSwarms', undefined, (draft) => {
      for (const page of draft.pages) {
        const s = page.items.find((x) => x.id === swarmId);
        if (s) Object.assign(s, listPatch(patch));
      }
    }),
  );
  dispatch(
    api.util.updateQueryData('getSwarm', swarmId, (draft) => {
      Object.assign(draft, patch);
    }),
  );
}

/** Add a message to a chat's cached list, once (by id). */
export function addMessageToCache(dispatch: (a: unknown) => unknown, swarmId: string, message: Message) {
  dispatch(
    api.util.updateQueryData('messages', { swarmId, chatId: message.chat_id }, (draft) => {
      if (draft.some((m) => m.id === message.id)) return;
      draft.push(message);
      draft.sort((a, b) => a.index - b.index);
    }),
  );
}
