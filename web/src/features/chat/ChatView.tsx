import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import { addMessageToCache, useAutoApproveMutation, useMessagesQuery, usePostMessageMutation, useTellNodeMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import type { ChatSummary, Node } from '../../api/types';
import ApprovalBar, { decisionFor, pendingTool } from './ApprovalBar';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import { useLive } from '../live/LiveContext';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { chatSeen, discarded, retrying, sendFailed, sendStarted, sendSucceeded } from './chatSlice';
import MessageItem from './MessageItem';
import PendingItem from './PendingItem';
import Composer from './Composer';
import NodeInfo from './NodeInfo';
import NodeJournalAndPrompts from './NodeJournalAndPrompts';

interface ChatViewProps {
  swarmId: string;
  chat: ChatSummary;
  node: Node | undefined;
  history: boolean;
  /** The swarm is paused: a reply is accepted but held until it resumes. */
  paused: boolean;
}

export default function ChatView({ swarmId, chat, node, history, paused }: ChatViewProps) {
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
