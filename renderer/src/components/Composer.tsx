import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useAutoGrow } from '../hooks/useAutoGrow';
import { useAppState, useAppStore } from '../state/context';
import { noUsableModel } from '../state/store';
import { IconAlert, IconSend, IconStop } from './Icons';

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
  useAutoGrow(area, text, 260);

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
    const content = text.trim();
    if (!content || sending || streaming || noModel) return;
    setSending(true);
    sendingRef.current = true;
    setText('');
    store.setDraft(owner.current, '');
    const ok = await store.send(content);
    sendingRef.current = false;
    setSending(false);
    if (!ok) {
      setText(content);
      store.setDraft(owner.current, content);
    }
    area.current?.focus();
  };

  const canSend = Boolean(text.trim()) && !sending && !noModel;

  return (
    <form
      className="composer"
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
      <div className={`composer__box${streaming ? ' is-streaming' : ''}`}>
        <textarea
          ref={area}
          className="composer__input"
          data-testid="composer"
          rows={1}
          placeholder={noModel ? 'Add a model to start chatting' : 'Message Wattwise…'}
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
      <p className="composer__note">
        <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line · Replies are generated on this computer
      </p>
    </form>
  );
});
