import { useEffect, useRef, useState } from 'react';
import type { ContextUsage } from '@shared/contract';
import { useAppState, useAppStore } from '../state/context';
import { pinnedModelPath } from '../state/store';
import { useDebounced } from './useDebounced';

/** How long the draft must stay unchanged before it is counted again, ms (a pause in typing). */
const draftDebounceMs = 350;

/**
 * How full the context window is for the open conversation (or the new chat) with `draft` as the next
 * message (method `chat.context`): asked again when the draft stops changing for 350 ms, when a reply
 * ends or the history changes, and when the settings, the pinned model or the loaded model change (the
 * count becomes exact once the model is loaded). Not asked while a reply streams (the history is moving).
 * `usage` is null until the first answer and after a failed one (no model at all, say): the meter hides.
 */
export function useContextUsage(draft: string): { usage: ContextUsage | null } {
  const store = useAppStore();
  const selectedId = useAppState((s) => s.selectedId);
  const streaming = useAppState((s) => (s.selectedId ? Boolean(s.active[s.selectedId]) : false));
  const messages = useAppState((s) => (s.detail && s.detail.conversation.id === s.selectedId ? s.detail.messages : null));
  const conversation = useAppState((s) => (s.detail && s.detail.conversation.id === s.selectedId ? s.detail.conversation : null));
  const settings = useAppState((s) => s.settings);
  const loadedModel = useAppState((s) => s.engine?.modelPath ?? null);
  const chosenModel = useAppState((s) => s.governor?.chosen?.modelPath ?? null);
  const pinned = useAppState(pinnedModelPath);
  const debouncedDraft = useDebounced(draft, draftDebounceMs);
  const [usage, setUsage] = useState<ContextUsage | null>(null);
  const seq = useRef(0);

  // A history key that moves when a message is added or a reply ends, not with each streamed token.
  const last = messages?.[messages.length - 1];
  const historyKey = messages ? `${messages.length}:${last?.id ?? ''}:${last?.status ?? ''}` : 'none';
  const hasSettings = settings !== null;
  const settingsKey = settings ? `${settings.contextSize}:${settings.maxReplyTokens}:${settings.contextOverflow}:${settings.defaultSystemPrompt.length}` : '';

  useEffect(() => {
    setUsage(null);
  }, [selectedId]);

  useEffect(() => {
    if (streaming || !hasSettings) return;
    const mine = ++seq.current;
    void store.contextUsage(debouncedDraft).then((result) => {
      if (mine !== seq.current) return;
      setUsage(result.ok ? result.value : null);
    });
  }, [store, selectedId, debouncedDraft, streaming, historyKey, settingsKey, hasSettings, conversation, loadedModel, chosenModel, pinned]);

  return { usage };
}
