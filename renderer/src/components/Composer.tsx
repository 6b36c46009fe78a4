import { forwardRef, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import { composeMessage, maxMessageChars } from '@shared/attachments';
import { useAttachments } from '../hooks/useAttachments';
import { useAutoGrow } from '../hooks/useAutoGrow';
import { useContextUsage } from '../hooks/useContextUsage';
import { useFileDrop } from '../hooks/useFileDrop';
import { useAppState, useAppStore } from '../state/context';
import { noUsableModel } from '../state/store';
import { AttachmentChips, AttachmentRefusals } from './AttachmentChips';
import { ContextMeter, ContextNotice } from './ContextMeter';
import { IconAlert, IconPaperclip, IconSend, IconStop } from './Icons';

export interface ComposerHandle {
  setText: (text: string) => void;
  focus: () => void;
}

export const Composer = forwardRef<ComposerHandle>(function Composer(_props, ref) {
  const store = useAppStore();
  const selectedId = useAppState((s) => s.selectedId);
  const streaming = useAppState((s) => (s.selectedId ? s.active[s.selectedId] : undefined));
  const chatError = useAppState((s) => s.chatError);
  // In Auto the governor chooses among the usable models; a pinned model that went missing fails the call with its reason.
  const noModel = useAppState(noUsableModel);

  const [text, setText] = useState(() => store.getDraft(selectedId));
  const [sending, setSending] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const owner = useRef(selectedId);
  const sendingRef = useRef(false);
  const fileInput = useRef<HTMLInputElement>(null);
  useAutoGrow(area, text, 260);
  // Text attachments (shared/attachments.ts) and the message they make with the typed text.
  const files = useAttachments(selectedId);
  const message = useMemo(() => composeMessage(files.attachments, text), [files.attachments, text]);
  const tooLong = message.length > maxMessageChars;
  const { usage } = useContextUsage(message);
  const { dragging } = useFileDrop((dropped) => void files.add(dropped, text));

  useImperativeHandle(ref, () => ({
    setText: (value: string) => {
      setText(value);
      store.setDraft(owner.current, value);
      requestAnimationFrame(() => {
        const el = area.current;
        el?.focus();
        el?.setSelectionRange(value.length, value.length);
      });
    },
    focus: () => area.current?.focus(),
  }));

  // Each conversation keeps its own unsent draft.
  useEffect(() => {
    if (owner.current !== selectedId) {
      const previous = owner.current;
      owner.current = selectedId;
      // A new chat created by the message being sent: nothing to restore.
      if (!(previous === null && sendingRef.current)) setText(store.getDraft(selectedId));
    }
    area.current?.focus();
  }, [selectedId, store]);

  const submit = async () => {
    const content = message.trim();
    if (!content || tooLong || files.reading || sending || streaming || noModel) return;
    const typed = text;
    setSending(true);
    sendingRef.current = true;
    setText('');
    store.setDraft(owner.current, '');
    const attached = files.take();
    const ok = await store.send(content);
    sendingRef.current = false;
    setSending(false);
    if (!ok) {
      setText(typed);
      store.setDraft(owner.current, typed);
      files.restore(attached);
    }
    area.current?.focus();
  };

  const canSend = Boolean(message.trim()) && !tooLong && !files.reading && !sending && !noModel;

  return (
    <form
      className={`composer${dragging ? ' is-dropping' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {chatError && (
        <div className="composer__error" role="alert">
          <IconAlert size={14} />
          <span>{chatError}</span>
          <button type="button" className="composer__error-close" aria-label="Dismiss" onClick={() => store.clearChatError()}>
            ×
          </button>
        </div>
      )}
      <ContextNotice usage={usage} />
      <AttachmentRefusals refusals={files.refusals} onDismiss={files.dismiss} />
      {tooLong && (
        <div className="composer__error" role="alert" data-testid="message-too-long">
          <IconAlert size={14} />
          <span>
            The message is {message.length.toLocaleString('en-US')} characters long; the limit is {maxMessageChars.toLocaleString('en-US')}. Remove an attachment or shorten
            the text.
          </span>
        </div>
      )}
      <div className={`composer__box composer__box--files${streaming ? ' is-streaming' : ''}`}>
        <AttachmentChips attachments={files.attachments} onRemove={files.remove} />
        {dragging && (
          <div className="composer__drop" aria-hidden="true">
            <IconPaperclip size={16} />
            Drop text files to attach them
          </div>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            const picked = Array.from(e.target.files ?? []);
            e.target.value = '';
            void files.add(picked, text).then(() => area.current?.focus());
          }}
        />
        <button
          type="button"
          className="composer__attach"
          data-testid="attach"
          aria-label="Attach text files"
          title="Attach text files (.txt, .md, .csv, code…)"
          disabled={files.reading}
          onClick={() => fileInput.current?.click()}
        >
          <IconPaperclip size={18} />
        </button>
        <textarea
          ref={area}
          className="composer__input"
          data-testid="composer"
          rows={1}
          placeholder={noModel ? 'Add a model to start chatting' : files.attachments.length ? 'Ask about the attached files…' : 'Message Wattwise…'}
          aria-label="Message"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            store.setDraft(owner.current, e.target.value);
            if (chatError) store.clearChatError();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void submit();
            }
          }}
          onPaste={(e) => {
            // Files on the clipboard (copied in a file manager, or a screenshot) are attached, not pasted as a name.
            const pasted = Array.from(e.clipboardData.files);
            if (pasted.length === 0) return;
            e.preventDefault();
            void files.add(pasted, text);
          }}
        />
        <div className="composer__actions">
          {streaming ? (
            <button
              type="button"
              className="composer__button composer__button--stop"
              data-testid="stop"
              aria-label="Stop generating"
              title="Stop"
              onClick={() => void store.stop()}
            >
              <IconStop size={14} />
            </button>
          ) : (
            <button type="submit" className="composer__button" data-testid="send" aria-label="Send message" title="Send (Enter)" disabled={!canSend}>
              <IconSend size={17} />
            </button>
          )}
        </div>
      </div>
      <div className="composer__footer">
        <p className="composer__note">
          <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line · Replies are generated on this computer
        </p>
        <ContextMeter usage={usage} />
      </div>
    </form>
  );
});
