import { memo, useEffect, useRef, useState } from 'react';
import type { Message } from '@shared/contract';
import { useAutoGrow } from '../hooks/useAutoGrow';
import { useCopy } from '../hooks/useCopy';
import { fullTime } from '../lib/format';
import { useAppStore } from '../state/context';
import { BoltMark, IconAlert, IconCheck, IconCopy, IconPencil, IconRefresh } from './Icons';
import { Markdown } from './Markdown';
import { MessageEnergy } from './MessageEnergy';
import { MessageStats } from './MessageStats';
import { ReplyVersions } from './ReplyVersions';
import { TryWithMenu } from './TryWithMenu';
import { UserMessageText } from './UserMessageText';

interface MessageItemProps {
  message: Message;
  /** The text to show (the live buffer while streaming). */
  text: string;
  /** The last assistant message of the conversation (can be regenerated). */
  isLastAssistant: boolean;
  /** A reply is being written in this conversation: no edit or regenerate. */
  busy: boolean;
  /** Engine progress shown while a reply has no text yet. */
  waitingLabel: string | null;
}

function CopyButton({ text }: { text: string }) {
  const { copied, copy } = useCopy();
  return (
    <button type="button" className="icon-button icon-button--small" aria-label={copied ? 'Copied' : 'Copy message'} title={copied ? 'Copied' : 'Copy'} onClick={() => copy(text)}>
      {copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
    </button>
  );
}

function UserEditor({ initial, onCancel, onSave }: { initial: string; onCancel: () => void; onSave: (text: string) => Promise<boolean> }) {
  const [value, setValue] = useState(initial);
  const [saving, setSaving] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  useAutoGrow(area, value, 320);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = async () => {
    if (!value.trim() || saving) return;
    setSaving(true);
    const ok = await onSave(value);
    setSaving(false);
    if (ok) onCancel();
  };
  return (
    <div className="msg-edit">
      <textarea
        ref={area}
        className="msg-edit__input"
        value={value}
        aria-label="Edit message"
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <div className="msg-edit__bar">
        <span className="msg-edit__note">The replies after this message will be replaced.</span>
        <button type="button" className="button button--ghost button--small" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button button--primary button--small" data-testid="save-edit" disabled={!value.trim() || saving} onClick={() => void save()}>
          Save &amp; ask again
        </button>
      </div>
    </div>
  );
}

export const MessageItem = memo(function MessageItem({ message, text, isLastAssistant, busy, waitingLabel }: MessageItemProps) {
  const store = useAppStore();
  const [editing, setEditing] = useState(false);

  if (message.role === 'system') return null;

  if (message.role === 'user') {
    return (
      <article className={`msg msg--user${editing ? ' is-editing' : ''}`} data-testid="message" data-role="user" data-status={message.status} data-message-id={message.id}>
        {editing ? (
          <UserEditor initial={message.content} onCancel={() => setEditing(false)} onSave={(t) => store.edit(message.id, t)} />
        ) : (
          <>
            <div className="msg__bubble" data-testid="message-content" title={fullTime(message.createdAt)}>
              <UserMessageText text={text} />
            </div>
            <div className="msg__actions">
              <CopyButton text={text} />
              <button type="button" className="icon-button icon-button--small" data-testid="edit" aria-label="Edit message" title="Edit" disabled={busy} onClick={() => setEditing(true)}>
                <IconPencil size={14} />
              </button>
            </div>
          </>
        )}
      </article>
    );
  }

  const streaming = message.status === 'streaming';
  return (
    <article
      className={`msg msg--assistant${isLastAssistant ? ' is-last' : ''}`}
      data-testid="message"
      data-role="assistant"
      data-status={message.status}
      data-message-id={message.id}
      aria-busy={streaming}
    >
      <div className="msg__avatar" aria-hidden="true">
        <BoltMark size={26} />
      </div>
      <div className="msg__body">
        <div className="msg__content" data-testid="message-content">
          {text ? <Markdown text={text} /> : null}
          {streaming && !text && (
            <div className="msg__waiting" role="status">
              <span className="typing" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              {waitingLabel && <span className="msg__waiting-label">{waitingLabel}</span>}
            </div>
          )}
          {streaming && text && <span className="msg__caret" aria-hidden="true" />}
        </div>
        {message.status === 'interrupted' && (
          <p className="msg__notice msg__notice--warn">
            <IconAlert size={14} />
            Interrupted — the app closed while this reply was being written
          </p>
        )}
        {message.status === 'error' && (
          <p className="msg__notice msg__notice--error" role="alert">
            <IconAlert size={14} />
            {message.error ?? 'The reply failed.'}
          </p>
        )}
        {!streaming && (
          <div className="msg__footer">
            {message.status === 'stopped' && <span className="badge badge--stopped">Stopped</span>}
            {message.energy && <MessageEnergy energy={message.energy} stats={message.stats} />}
            {message.stats && <MessageStats stats={message.stats} governor={message.governor} />}
            <ReplyVersions message={message} busy={busy} />
            <div className="msg__actions">
              <CopyButton text={text} />
              {isLastAssistant && <TryWithMenu disabled={busy} />}
              {isLastAssistant && (
                <button
                  type="button"
                  className="icon-button icon-button--small"
                  data-testid="regenerate"
                  aria-label="Regenerate reply"
                  title="Regenerate"
                  disabled={busy}
                  onClick={() => void store.regenerate()}
                >
                  <IconRefresh size={14} />
                </button>
              )}
            </div>
          </div>
        )}
      </div>
    </article>
  );
});
