import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { describeError } from '../api/errors';
import { useAppState } from '../state/context';
import { messageText } from '../state/store';
import { Composer, type ComposerHandle } from './Composer';
import { EmptyChat } from './EmptyChat';
import { engineLine, EngineStatus } from './EngineStatus';
import { EnergyToggle } from './EnergyToggle';
import { GovernorBar } from './GovernorBar';
import { IconChevronDown } from './Icons';
import { MessageItem } from './MessageItem';
import { ModelPicker } from './ModelPicker';
import { ExportMenu } from './ExportMenu';
import { PresetPicker } from './presets/PresetPicker';
import { useConversationSystemPrompt } from './presets/useConversationSystemPrompt';

function SystemPromptNote({ text }: { text: string }) {
  if (!text.trim()) return null;
  return (
    <details className="system-note">
      <summary>System prompt</summary>
      <p>{text}</p>
    </details>
  );
}

function MessageList() {
  const detail = useAppState((s) => s.detail);
  const live = useAppState((s) => s.live);
  const active = useAppState((s) => (s.detail ? s.active[s.detail.conversation.id] : undefined));
  const engine = useAppState((s) => s.engine);
  const engineLoadError = useAppState((s) => s.engineLoadError);
  const models = useAppState((s) => s.models);
  const systemPrompt = useConversationSystemPrompt(detail?.conversation);
  if (!detail) return null;
  const messages = detail.messages;
  let lastAssistant = -1;
  messages.forEach((m, i) => {
    if (m.role === 'assistant') lastAssistant = i;
  });
  const line = engineLine(engine, engineLoadError, models);
  const waitingLabel = line && line.tone === 'busy' && engine?.state !== 'generating' ? line.text : null;
  const systemMessage = messages.find((m) => m.role === 'system');
  return (
    <div className="messages" role="log" aria-label="Messages" aria-live="off">
      <SystemPromptNote text={systemMessage?.content ?? systemPrompt ?? ''} />
      {messages.map((message, index) => (
        <MessageItem
          key={message.id}
          message={message}
          text={messageText({ live }, message)}
          isLastAssistant={index === lastAssistant && index === messages.length - 1}
          busy={Boolean(active)}
          waitingLabel={message.status === 'streaming' ? waitingLabel : null}
        />
      ))}
    </div>
  );
}

export function ChatView() {
  const selectedId = useAppState((s) => s.selectedId);
  const detail = useAppState((s) => s.detail);
  const detailLoading = useAppState((s) => s.detailLoading);
  const detailError = useAppState((s) => s.detailError);
  const live = useAppState((s) => s.live);
  const resolvedSystemPrompt = useConversationSystemPrompt(detail?.conversation);
  const composer = useRef<ComposerHandle>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const [showJump, setShowJump] = useState(false);

  const title = selectedId ? (detail?.conversation.title.trim() || (detailLoading ? '' : 'New chat')) : 'New chat';
  const empty = !selectedId || (detail !== null && detail.messages.filter((m) => m.role !== 'system').length === 0);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const distance = el.scrollHeight - el.scrollTop - el.clientHeight;
    pinned.current = distance < 48;
    setShowJump(distance > 240);
  }, []);

  // A newly opened conversation starts at its end.
  useLayoutEffect(() => {
    pinned.current = true;
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [selectedId, detail?.conversation.id]);

  // Follow the reply while the user stays at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [detail, live]);

  useEffect(() => {
    setShowJump(false);
  }, [selectedId]);

  const jump = () => {
    const el = scroller.current;
    if (!el) return;
    pinned.current = true;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
  };

  return (
    <main className="chat" aria-label="Chat">
      <header className="chat__header">
        <h1 className="chat__title" title={title}>
          {title}
        </h1>
        <div className="chat__controls">
          <EngineStatus placement="chip" />
          <PresetPicker />
          <ModelPicker />
          <ExportMenu />
          <EnergyToggle />
        </div>
      </header>
      <GovernorBar />
      <EngineStatus placement="alert" />
      <div className="chat__scroll" ref={scroller} onScroll={onScroll}>
        <div className="chat__column">
          {detailError && <div className="banner banner--error" role="alert">{describeError(detailError)}</div>}
          {empty ? (
            <EmptyChat systemPrompt={selectedId ? resolvedSystemPrompt : undefined} onExample={(p) => composer.current?.setText(p)} />
          ) : detail ? (
            <MessageList />
          ) : detailLoading ? (
            <div className="chat__loading" aria-label="Loading conversation">
              <span className="skeleton" />
              <span className="skeleton skeleton--short" />
              <span className="skeleton" />
            </div>
          ) : null}
        </div>
      </div>
      <div className="chat__bottom">
        {showJump && (
          <button type="button" className="jump-button" aria-label="Scroll to the latest message" onClick={jump}>
            <IconChevronDown size={16} />
          </button>
        )}
        <Composer ref={composer} />
      </div>
    </main>
  );
}
