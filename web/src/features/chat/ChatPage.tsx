import { useEffect, useId, useMemo, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { addMessageToCache, useAutoApproveMutation, useMessagesQuery, usePostMessageMutation, useTellNodeMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import { useLiveNodeDetail } from '../logs/useLiveNodeDetail';
import type { ChatSummary, Message, Node } from '../../api/types';
import ApprovalBar, { decisionFor, pendingTool } from './ApprovalBar';
import { AttachmentList, PickedFiles, pastedFiles } from './Attachments';
import { EmptyState, ErrorMessage, Loading } from '../../components/Feedback';
import JournalList from '../logs/JournalList';
import Markdown from '../../components/Markdown';
import NodeSteering from '../steering/NodeSteering';
import { formatTime, naturalCompare } from '../../lib/format';
import { plainPreview } from '../../lib/plainText';
import { useLive } from '../live/LiveContext';
import { useAppDispatch, useAppSelector } from '../../app/store';
import {
  chatSeen,
  discarded,
  draftChanged,
  retrying,
  sendFailed,
  sendStarted,
  sendSucceeded,
  seenKey,
  type PendingMessage,
} from './chatSlice';
import { selectIsHistory, selectOrderedChats, selectViewState } from '../history/selectors';
import { LIFECYCLE_LABELS, ACTION_LABELS } from '../tree/glyphs';

const GROUPS: { status: ChatSummary['status']; label: string }[] = [
  { status: 'awaiting_user', label: 'Waiting on you' },
  { status: 'open', label: 'Open' },
  { status: 'closed', label: 'Closed' },
];

export default function ChatPage() {
  const { swarmId = '', chatId } = useParams();
  // Fetch the Markdown renderer (and KaTeX) while the list renders, so messages show formatted at once.
  useEffect(() => {
    void import('../../components/MarkdownRenderer');
  }, []);
  const view = useAppSelector((s) => selectViewState(s, swarmId));
  const history = useAppSelector((s) => selectIsHistory(s, swarmId));
  const visible = selectOrderedChats(view);
  const idleCount = view ? Object.keys(view.chats).length - visible.length : 0;
  const selected = chatId ? view?.chats[chatId] : undefined;

  return (
    <div className={`chat-page ${chatId ? 'has-selection' : ''}`}>
      <nav className="chat-list" aria-label="Chats">
        <h2 className="visually-hidden">Chats</h2>
        {history ? <HistoryBanner swarmId={swarmId} /> : null}
        {visible.length === 0 ? (
          <EmptyState title="No conversations yet.">
            {view?.status === 'draft' ? (
              <p>Spawn the swarm to start. When an agent needs your input, its chat appears here.</p>
            ) : (
              <p>When an agent needs your input, its chat appears here, at the top. You can follow the work in the Tree.</p>
            )}
          </EmptyState>
        ) : (
          GROUPS.map((g) => {
            const list = visible.filter((c) => c.status === g.status);
            if (!list.length) return null;
            return (
              <section key={g.status} aria-label={g.label}>
                <h3 className="chat-group">
                  {g.label} <span className="count">({list.length})</span>
                </h3>
                <ul>
                  {list.map((c) => (
                    <ChatListItem key={c.id} swarmId={swarmId} chat={c} active={c.id === chatId} />
                  ))}
                </ul>
              </section>
            );
          })
        )}
        {idleCount > 0 && view ? <OtherChats swarmId={swarmId} chats={view.chats} count={idleCount} activeId={chatId} /> : null}
      </nav>
      <section className="chat-main" aria-label={selected ? `Chat: ${selected.title}` : 'Chat'}>
        {chatId && !selected ? (
          <EmptyState title="This chat does not exist at this point.">
            <p>
              It may belong to a node spawned later. <Link to={`/swarms/${swarmId}/chat`}>Back to the chats</Link>
            </p>
          </EmptyState>
        ) : selected && view ? (
          <ChatView
            key={selected.id}
            swarmId={swarmId}
            chat={selected}
            node={view.nodes[selected.node_id]}
            history={history}
            paused={view.status === 'paused'}
          />
        ) : (
          <EmptyState title="Select a chat.">
            <p>Chats waiting on you are listed first. Pick one to read it and reply.</p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}

const OTHERS_SHOWN = 50;

/** The chats of nodes that have not talked yet: any node's chat can be opened from here (found by name). */
function OtherChats({ swarmId, chats, count, activeId }: { swarmId: string; chats: Record<string, ChatSummary>; count: number; activeId?: string }) {
  const [q, setQ] = useState('');
  const uid = useId();
  const matches = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const out: ChatSummary[] = [];
    for (const c of Object.values(chats)) {
      if (c.status !== 'idle') continue;
      if (needle && !c.title.toLowerCase().includes(needle) && !c.node_id.toLowerCase().includes(needle)) continue;
      out.push(c);
    }
    return out.sort((a, b) => naturalCompare(a.node_id, b.node_id));
  }, [chats, q]);
  return (
    <details className="other-chats">
      <summary className="hint">
        {count === 1 ? '1 other node has' : `${count.toLocaleString()} other nodes have`} not talked to you. Open one
      </summary>
      {count > 10 ? (
        <div className="field">
          <label htmlFor={`${uid}-find`} className="visually-hidden">
            Find a node's chat
          </label>
          <input id={`${uid}-find`} type="search" placeholder="Find a node…" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
      ) : null}
      <ul aria-label="Other nodes">
        {matches.slice(0, OTHERS_SHOWN).map((c) => (
          <li key={c.id}>
            <Link
              to={`/swarms/${swarmId}/chat/${encodeURIComponent(c.id)}`}
              className={`chat-item ${c.id === activeId ? 'active' : ''}`}
              aria-current={c.id === activeId ? 'page' : undefined}
              data-testid="other-chat"
            >
              <span className="chat-item-title">{c.title}</span>
            </Link>
          </li>
        ))}
      </ul>
      {matches.length > OTHERS_SHOWN ? (
        <p className="hint">{(matches.length - OTHERS_SHOWN).toLocaleString()} more: narrow the search to find them.</p>
      ) : null}
    </details>
  );
}

function HistoryBanner({ swarmId }: { swarmId: string }) {
  const seq = useAppSelector((s) => s.scrub.shownSeq);
  return (
    <p className="notice history-banner" role="status">
      Showing history at event {seq.toLocaleString()}. <Link to={`/swarms/${swarmId}/tree`}>Back to the slider</Link>
    </p>
  );
}

function ChatListItem({ swarmId, chat, active }: { swarmId: string; chat: ChatSummary; active: boolean }) {
  const seen = useAppSelector((s) => s.chat.seen[seenKey(swarmId, chat.id)] ?? 0);
  const unread = chat.message_count > seen && chat.last_role !== 'user' && !active;
  return (
    <li>
      <Link
        to={`/swarms/${swarmId}/chat/${encodeURIComponent(chat.id)}`}
        className={`chat-item ${active ? 'active' : ''} ${unread ? 'unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-testid="chat-item"
        data-status={chat.status}
      >
        <span className="chat-item-title">
          {unread ? (
            <span className="unread-dot" aria-label="Unread" role="img" />
          ) : null}
          {chat.title}
        </span>
        {chat.last_message ? (
          <span className="chat-item-last">
            {chat.last_role === 'user' ? 'You: ' : ''}
            {plainPreview(chat.last_message)}
          </span>
        ) : null}
      </Link>
    </li>
  );
}

interface ChatViewProps {
  swarmId: string;
  chat: ChatSummary;
  node: Node | undefined;
  history: boolean;
  /** The swarm is paused: a reply is accepted but held until it resumes. */
  paused: boolean;
}

function ChatView({ swarmId, chat, node, history, paused }: ChatViewProps) {
  const dispatch = useAppDispatch();
  const live = useLive();
  const messagesQ = useMessagesQuery({ swarmId, chatId: chat.id });
  const pending = useAppSelector((s) => s.chat.pending[chat.id]);
  const [post] = usePostMessageMutation();
  const [tell] = useTellNodeMutation();
  const [autoApprove, autoApproving] = useAutoApproveMutation();
  const [autoError, setAutoError] = useState<string | null>(null);
  // the swarm's switch for this tool: the server then answers the approval the node waits on
  const approveAlways = async (tool: string) => {
    setAutoError(null);
    try {
      await autoApprove({ swarmId, body: { enabled: true, tool } }).unwrap();
      live?.wake(swarmId);
    } catch (err) {
      setAutoError(describeError(err));
    }
  };
  const logRef = useRef<HTMLDivElement>(null);
  const [infoOpen, setInfoOpen] = useState(false);
  const infoId = useId();

  // A missed event (or a chat seen in history) is repaired by refetching when counts disagree.
  const serverCount = messagesQ.data?.length ?? 0;
  useEffect(() => {
    if (!history && messagesQ.data && serverCount < chat.message_count && !messagesQ.isFetching) {
      const t = setTimeout(() => void messagesQ.refetch(), 300);
      return () => clearTimeout(t);
    }
    return undefined;
  }, [history, serverCount, chat.message_count, messagesQ]);

  useEffect(() => {
    if (!history) dispatch(chatSeen({ swarmId, chatId: chat.id, count: chat.message_count }));
  }, [dispatch, swarmId, chat.id, chat.message_count, history]);

  // In history mode only the messages that existed at that point are shown.
  const messages = useMemo(() => {
    const all = messagesQ.data ?? [];
    return history ? all.filter((m) => m.index < chat.message_count) : all;
  }, [messagesQ.data, history, chat.message_count]);

  const count = messages.length + (pending?.length ?? 0);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count]);

  // Files of messages being sent, by their temporary id (File objects stay out of the store), for a retry.
  const pendingFiles = useRef(new Map<string, File[]>());
  const send = async (p: { content: string; files?: File[]; tempId?: string }) => {
    let tempId = p.tempId;
    const files = p.files ?? (tempId ? pendingFiles.current.get(tempId) : undefined) ?? [];
    if (tempId) dispatch(retrying({ chatId: chat.id, tempId }));
    else {
      const action = dispatch(sendStarted({ swarmId, chatId: chat.id, content: p.content, files: files.map((f) => f.name) }));
      tempId = action.payload.tempId;
    }
    if (files.length) pendingFiles.current.set(tempId, files);
    try {
      // a node that asked gets a reply; any other live node is told (its next model call reads it)
      const msg = await (chat.status === 'awaiting_user'
        ? post({ swarmId, chatId: chat.id, content: p.content, files })
        : tell({ swarmId, nodeId: chat.node_id, content: p.content, files })
      ).unwrap();
      addMessageToCache(dispatch, swarmId, msg);
      pendingFiles.current.delete(tempId);
      dispatch(sendSucceeded({ chatId: chat.id, tempId }));
      live?.wake(swarmId);
    } catch (err) {
      const e = err as { status?: unknown };
      const replying = chat.status === 'awaiting_user';
      const text = e.status === 409 && replying ? 'The agent is no longer waiting for a reply here.' : describeError(err);
      dispatch(sendFailed({ chatId: chat.id, tempId, error: text }));
    }
  };

  const sending = pending?.some((m) => m.status === 'sending') ?? false;
  const awaiting = chat.status === 'awaiting_user' && !history;
  const nodeLive = !!node && !['done', 'failed', 'cancelled'].includes(node.lifecycle);
  const tellable = !awaiting && !history && nodeLive;
  // The person's last word, not yet read by the agent because the swarm is paused.
  const last = messages[messages.length - 1];
  const heldId = paused && !history && chat.status === 'open' && last?.role === 'user' ? last.id : null;

  return (
    <div className="chat-view">
      <div className="chat-view-head">
        <h2>{chat.title}</h2>
        <Link className="back-link" to={`/swarms/${swarmId}/chat`}>
          All chats
        </Link>
      </div>
      <NodeInfo swarmId={swarmId} node={node} history={history} open={infoOpen} panelId={infoId} onToggle={() => setInfoOpen((o) => !o)} />
      <div className={`chat-body${infoOpen && node ? ' with-info' : ''}`}>
      <div className="chat-column">
      <div className="messages" ref={logRef} role="log" aria-label="Messages" aria-live="polite" tabIndex={0}>
        {messagesQ.isLoading ? (
          <Loading label="Loading messages…" />
        ) : messagesQ.error ? (
          <ErrorMessage>{describeError(messagesQ.error)}</ErrorMessage>
        ) : messages.length === 0 && !pending?.length ? (
          <p className="hint">No messages yet.</p>
        ) : (
          <ol className="message-list">
            {messages.map((m) => (
              <MessageItem key={m.id} swarmId={swarmId} m={m} held={m.id === heldId} />
            ))}
            {(pending ?? []).map((p) => (
              <PendingItem
                key={p.tempId}
                p={p}
                onRetry={() => void send({ content: p.content, tempId: p.tempId })}
                onDiscard={() => {
                  pendingFiles.current.delete(p.tempId);
                  dispatch(discarded({ chatId: chat.id, tempId: p.tempId }));
                }}
              />
            ))}
          </ol>
        )}
      </div>
      {heldId && (awaiting || tellable) ? (
        <p className="composer-note">The swarm is paused. Your reply is held; the agent reads it when you resume the swarm.</p>
      ) : null}
      {awaiting && decisionFor(node) ? (
        <>
          <ApprovalBar
            kind={decisionFor(node)!}
            disabled={sending || autoApproving.isLoading}
            onDecide={(content) => void send({ content })}
            tool={pendingTool(node)}
            onAutoApprove={(tool) => void approveAlways(tool)}
          />
          <ErrorMessage>{autoError}</ErrorMessage>
        </>
      ) : null}
      {awaiting || tellable ? (
        <Composer
          chatId={chat.id}
          disabled={sending}
          onSend={(content, files) => void send({ content, files })}
          label={awaiting ? undefined : 'Tell this agent something (it reads it at its next step)'}
        />
      ) : (
        <p className="composer-note">
          {history
            ? 'You are looking at the history. Press Live on the tree page to reply.'
            : chat.status === 'closed'
              ? 'This conversation is closed.'
              : heldId
                ? 'The swarm is paused. Your reply is held; the agent reads it when you resume the swarm.'
                : paused
                  ? 'The swarm is paused. Resume it to let the agent go on.'
                  : 'The agent is working. You can reply when it asks you something.'}
        </p>
      )}
      </div>
      {infoOpen && node ? (
        // Beside the messages on wide screens, above them on narrow ones (CSS), never squeezing them.
        <aside id={infoId} className="node-info-panel" aria-label="Node info" data-testid="node-info-panel">
          <NodeJournalAndPrompts swarmId={swarmId} nodeId={node.id} />
        </aside>
      ) : null}
      </div>
    </div>
  );
}

const ROLE_LABEL = { agent: 'Agent', user: 'You', system: 'System' } as const;

function MessageItem({ swarmId, m, held }: { swarmId: string; m: Message; held: boolean }) {
  return (
    <li className={`message message-${m.role}${held ? ' held' : ''}`} data-testid="message">
      <div className="message-meta">
        <span className="message-role">{ROLE_LABEL[m.role]}</span>
        <time dateTime={m.created_at}>{formatTime(m.created_at)}</time>
        {held ? <span className="held-label">Held until you resume</span> : null}
      </div>
      {m.content ? <Markdown>{m.content}</Markdown> : null}
      <AttachmentList swarmId={swarmId} attachments={m.attachments ?? []} />
    </li>
  );
}

function PendingItem({ p, onRetry, onDiscard }: { p: PendingMessage; onRetry(): void; onDiscard(): void }) {
  return (
    <li className={`message message-user pending ${p.status}`} data-testid="pending-message" data-status={p.status}>
      <div className="message-meta">
        <span className="message-role">You</span>
        <span className="pending-label">{p.status === 'sending' ? 'Sending…' : 'Not sent'}</span>
      </div>
      <div className="md md-plain">{p.content}</div>
      {p.files?.length ? <p className="pending-files">Files: {p.files.join(', ')}</p> : null}
      {p.status === 'failed' ? (
        <div className="pending-actions">
          <ErrorMessage>{p.error}</ErrorMessage>
          <button type="button" className="primary" onClick={onRetry}>
            Retry
          </button>
          <button type="button" onClick={onDiscard}>
            Discard
          </button>
        </div>
      ) : null}
    </li>
  );
}

interface ComposerProps {
  chatId: string;
  disabled: boolean;
  onSend(content: string, files: File[]): void;
  /** Set when the node has not asked: the message is told to it (``POST .../tell``), not a reply. */
  label?: string;
}

function Composer({ chatId, disabled, onSend, label }: ComposerProps) {
  const dispatch = useAppDispatch();
  const draft = useAppSelector((s) => s.chat.drafts[chatId] ?? '');
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const uid = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  const add = (more: File[]) => {
    if (more.length) setFiles((now) => [...now, ...more]);
  };
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const content = draft.trim();
    if ((!content && !files.length) || disabled) return;
    onSend(content, files);
    setFiles([]);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = pastedFiles(e.clipboardData);
    if (pasted.length) {
      e.preventDefault(); // a pasted screenshot is a file, not text
      add(pasted);
    }
  };
  const onDrop = (e: DragEvent<HTMLFormElement>) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    setDragging(false);
    add(Array.from(e.dataTransfer.files));
  };
  const onDragOver = (e: DragEvent<HTMLFormElement>) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    setDragging(true);
  };
  return (
    <form
      className={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={submit}
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      data-testid="composer"
    >
      <label htmlFor={`${uid}-reply`} className="visually-hidden">
        {label ?? 'Your reply'}
      </label>
      <textarea
        id={`${uid}-reply`}
        ref={ref}
        value={draft}
        onChange={(e) => dispatch(draftChanged({ chatId, text: e.target.value }))}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        rows={3}
        placeholder={label ? 'Tell this agent something…' : 'Write your reply…'}
        aria-describedby={`${uid}-hint`}
      />
      <PickedFiles files={files} onRemove={(i) => setFiles((now) => now.filter((_, j) => j !== i))} />
      <div className="composer-foot">
        <span className="hint" id={`${uid}-hint`}>
          Enter sends · Shift+Enter adds a line · Markdown works · drop or paste files to attach
        </span>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="Files to attach"
          data-testid="attach-input"
          onChange={(e) => {
            add(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <button type="button" className="attach-button" onClick={() => picker.current?.click()} disabled={disabled}>
          Attach files
        </button>
        <button type="submit" className="primary" disabled={disabled || (!draft.trim() && !files.length)}>
          Send
        </button>
      </div>
    </form>
  );
}

interface NodeInfoProps {
  swarmId: string;
  node: Node | undefined;
  history: boolean;
  open: boolean;
  panelId: string;
  onToggle(): void;
}

function NodeInfo({ swarmId, node, history, open, panelId, onToggle }: NodeInfoProps) {
  const navigate = useNavigate();
  if (!node) return null;
  return (
    <div className="node-info">
      <div className="row">
        <button type="button" aria-expanded={open} aria-controls={panelId} onClick={onToggle}>
          {open ? 'Hide node info' : 'Node info'}
        </button>
        <button type="button" onClick={() => navigate(`/swarms/${swarmId}/tree?node=${encodeURIComponent(node.id)}`)}>
          Show in tree
        </button>
        <span className="hint">
          {ACTION_LABELS[node.action_type]} · {LIFECYCLE_LABELS[node.lifecycle]}
        </span>
      </div>
      {history ? null : <NodeSteering swarmId={swarmId} node={node} />}
    </div>
  );
}

/** The node's journal and the prompts it used, as plain role and content. */
export function NodeJournalAndPrompts({ swarmId, nodeId }: { swarmId: string; nodeId: string }) {
  const q = useLiveNodeDetail(swarmId, nodeId);
  if (q.isLoading) return <Loading label="Loading the node's journal…" />;
  if (q.error || !q.data) return <ErrorMessage>{describeError(q.error)}</ErrorMessage>;
  const calls = q.data.llm_calls;
  return (
    <>
      <h3>Journal</h3>
      <JournalList entries={q.data.journal} />
      <h3>Prompts</h3>
      {calls.length ? (
        calls.map((c) => (
          <details key={c.id} className="prompt-call">
            <summary>
              {c.step} · {c.model}
            </summary>
            {c.messages.map((m, k) => (
              <div key={k} className="prompt-msg">
                <div className="prompt-role">{m.role}</div>
                <div className="prompt-content">{m.content}</div>
              </div>
            ))}
          </details>
        ))
      ) : (
        <p className="hint">No model calls yet.</p>
      )}
    </>
  );
}
