// Chat UI state that is not on the server: messages being sent (optimistic, kept on failure for retry),
// unsent drafts (survive a session expiry), and how many messages of each chat the user has seen.
import { createSlice, nanoid, type PayloadAction } from '@reduxjs/toolkit';
import { resetAll } from '../auth/authSlice';

export interface PendingMessage {
  tempId: string;
  swarmId: string;
  chatId: string;
  content: string;
  /** Names of the files it carries (the files themselves stay with the chat view, for a retry). */
  files?: string[];
  status: 'sending' | 'failed';
  error: string | null;
  createdAt: string;
}

export interface ChatUiState {
  pending: Record<string, PendingMessage[]>; // by chatId
  drafts: Record<string, string>; // by chatId
  seen: Record<string, number>; // by seenKey(swarmId, chatId): message_count the user has seen
}

/** Chat ids repeat across swarms (every swarm has chat-n), so what was seen is kept per swarm and chat. */
export function seenKey(swarmId: string, chatId: string): string {
  return `${swarmId}/${chatId}`;
}

const SEEN_PREFIX = 'aga.seen.v1.';

/** What this user has seen, kept in this browser across logins (logging out must not bring dots back). */
export function loadSeen(userId: string): Record<string, number> {
  try {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(SEEN_PREFIX + userId);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/** Merged into what is stored (counts only grow): an emptied slice on logout must not erase it. */
export function saveSeen(userId: string, seen: Record<string, number>): void {
  try {
    const merged = loadSeen(userId);
    let changed = false;
    for (const [key, count] of Object.entries(seen)) {
      if ((merged[key] ?? 0) < count) {
        merged[key] = count;
        changed = true;
      }
    }
    if (changed) localStorage.setItem(SEEN_PREFIX + userId, JSON.stringify(merged));
  } catch {
    /* storage full or disabled: unread marks just do not persist */
  }
}

const STORAGE_KEY = 'aga.chat.v1';

export function loadChatUi(): ChatUiState {
  const empty: ChatUiState = { pending: {}, drafts: {}, seen: {} };
  try {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return empty;
    const parsed = JSON.parse(raw) as Partial<ChatUiState>;
    return { pending: {}, drafts: parsed.drafts ?? {}, seen: {} };
  } catch {
    return empty;
  }
}

export function saveChatUi(s: ChatUiState): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ drafts: s.drafts }));
  } catch {
    /* storage full or disabled: drafts just do not persist */
  }
}

const slice = createSlice({
  name: 'chat',
  initialState: (): ChatUiState => ({ pending: {}, drafts: {}, seen: {} }),
  reducers: {
    sendStarted: {
      reducer(s, { payload }: PayloadAction<PendingMessage>) {
        (s.pending[payload.chatId] ??= []).push(payload);
        delete s.drafts[payload.chatId];
      },
      prepare(p: { swarmId: string; chatId: string; content: string; files?: string[]; tempId?: string }) {
        return {
          payload: {
            tempId: p.tempId ?? nanoid(),
            swarmId: p.swarmId,
            chatId: p.chatId,
            content: p.content,
            ...(p.files?.length ? { files: p.files } : {}),
            status: 'sending' as const,
            error: null,
            createdAt: new Date().toISOString(),
          },
        };
      },
    },
    sendSucceeded(s, { payload }: PayloadAction<{ chatId: string; tempId: string }>) {
      const list = (s.pending[payload.chatId] ?? []).filter((m) => m.tempId !== payload.tempId);
      if (list.length) s.pending[payload.chatId] = list;
      else delete s.pending[payload.chatId];
    },
    sendFailed(s, { payload }: PayloadAction<{ chatId: string; tempId: string; error: string }>) {
      const m = s.pending[payload.chatId]?.find((x) => x.tempId === payload.tempId);
      if (m) {
        m.status = 'failed';
        m.error = payload.error;
      }
    },
    retrying(s, { payload }: PayloadAction<{ chatId: string; tempId: string }>) {
      const m = s.pending[payload.chatId]?.find((x) => x.tempId === payload.tempId);
      if (m) {
        m.status = 'sending';
        m.error = null;
      }
    },
    discarded(s, { payload }: PayloadAction<{ chatId: string; tempId: string }>) {
      const list = (s.pending[payload.chatId] ?? []).filter((m) => m.tempId !== payload.tempId);
      if (list.length) s.pending[payload.chatId] = list;
      else delete s.pending[payload.chatId];
    },
    draftChanged(s, { payload }: PayloadAction<{ chatId: string; text: string }>) {
      if (payload.text) s.drafts[payload.chatId] = payload.text;
      else delete s.drafts[payload.chatId];
    },
    chatSeen(s, { payload }: PayloadAction<{ swarmId: string; chatId: string; count: number }>) {
      const key = seenKey(payload.swarmId, payload.chatId);
      if ((s.seen[key] ?? 0) < payload.count) s.seen[key] = payload.count;
    },
    /** A user logged in: what they saw before, in this browser. */
    seenLoaded(s, { payload }: PayloadAction<Record<string, number>>) {
      for (const [key, count] of Object.entries(payload)) {
        if (typeof count === 'number' && (s.seen[key] ?? 0) < count) s.seen[key] = count;
      }
    },
  },
  extraReducers: (b) => b.addCase(resetAll, () => ({ pending: {}, drafts: {}, seen: {} })),
});

export const { sendStarted, sendSucceeded, sendFailed, retrying, discarded, draftChanged, chatSeen, seenLoaded } =
  slice.actions;
export default slice.reducer;
