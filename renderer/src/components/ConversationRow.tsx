import { memo, useEffect, useRef, useState } from 'react';
import type { ConversationSummary } from '@shared/contract';
import { describeError } from '../api/errors';
import { fullTime, relativeTime } from '../lib/format';
import { useAppStore } from '../state/context';
import { IconPencil, IconTrash } from './Icons';
import { Snippet } from './Snippet';

interface RowProps {
  conversation: ConversationSummary;
  selected: boolean;
  now: number;
  streaming: boolean;
  onDelete: (conversation: ConversationSummary) => void;
}

export const ConversationRow = memo(function ConversationRow({ conversation, selected, now, streaming, onDelete }: RowProps) {
  const store = useAppStore();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(conversation.title);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const saving = useRef(false);
  /** Set once Enter or Esc ended the edit, so the blur that follows does nothing. */
  const finished = useRef(false);

  useEffect(() => {
    if (editing) {
      input.current?.focus();
      input.current?.select();
    }
  }, [editing]);

  const startEditing = () => {
    setTitle(conversation.title);
    setError(null);
    finished.current = false;
    setEditing(true);
  };

  const save = async () => {
    if (saving.current) return;
    const next = title.trim();
    if (!next || next === conversation.title) {
      finished.current = true;
      setEditing(false);
      return;
    }
    saving.current = true;
    const result = await store.rename(conversation.id, next);
    saving.current = false;
    if (result.ok) {
      finished.current = true;
      setEditing(false);
    } else {
      setError(describeError(result.error));
    }
  };

  const displayTitle = conversation.title.trim() || 'New chat';

  return (
    <div
      className={`conv-row${selected ? ' is-selected' : ''}${editing ? ' is-editing' : ''}`}
      data-testid="conversation-item"
      data-conversation-id={conversation.id}
    >
      {editing ? (
        <div className="conv-row__edit">
          <input
            ref={input}
            className="conv-row__input"
            value={title}
            maxLength={200}
            aria-label="Conversation title"
            aria-invalid={error ? true : undefined}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void save();
              } else if (e.key === 'Escape') {
                e.preventDefault();
                e.stopPropagation();
                finished.current = true;
                setEditing(false);
              }
            }}
            onBlur={() => {
              if (!finished.current && !error) void save();
            }}
          />
          {error && <div className="conv-row__error" role="alert">{error}</div>}
        </div>
      ) : (
        <>
          <button
            type="button"
            className="conv-row__main"
            aria-current={selected ? 'page' : undefined}
            onClick={() => void store.select(conversation.id)}
            onDoubleClick={startEditing}
            title={displayTitle}
          >
            <span className="conv-row__line">
              <span className="conv-row__title">{displayTitle}</span>
              {streaming ? (
                <span className="conv-row__live" aria-label="Writing a reply" />
              ) : (
                <time className="conv-row__time" dateTime={new Date(conversation.updatedAt).toISOString()} title={fullTime(conversation.updatedAt)}>
                  {relativeTime(conversation.updatedAt, now)}
                </time>
              )}
            </span>
            {conversation.snippet && (
              <span className="conv-row__snippet">
                <Snippet text={conversation.snippet} />
              </span>
            )}
          </button>
          <div className="conv-row__actions">
            <button type="button" className="icon-button icon-button--small" data-testid="rename" aria-label={`Rename “${displayTitle}”`} title="Rename" onClick={startEditing}>
              <IconPencil size={14} />
            </button>
            <button
              type="button"
              className="icon-button icon-button--small icon-button--danger"
              data-testid="delete"
              aria-label={`Delete “${displayTitle}”`}
              title="Delete"
              onClick={() => onDelete(conversation)}
            >
              <IconTrash size={14} />
            </button>
          </div>
        </>
      )}
    </div>
  );
});
