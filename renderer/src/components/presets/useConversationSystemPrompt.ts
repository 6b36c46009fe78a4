import type { ConversationSummary } from '@shared/contract';
import { resolveGenerationSettings } from '@shared/presets';
import { useAppState } from '../../state/context';
import { usePresetsState } from '../../state/presets';

/**
 * The system prompt a conversation's next reply uses: its override, else its preset's, else Settings'
 * default (shared/presets.ts). Before the presets list has loaded, a user preset's own prompt is not known
 * yet: the conversation's starting prompt stands in for it.
 */
export function useConversationSystemPrompt(conversation: ConversationSummary | null | undefined): string | undefined {
  const settings = useAppState((s) => s.settings);
  const presets = usePresetsState((s) => s.presets);
  if (!conversation) return undefined;
  if (conversation.overrides?.systemPrompt !== undefined) return conversation.overrides.systemPrompt;
  const presetId = conversation.presetId ?? 'default';
  const preset = presets?.find((p) => p.id === presetId);
  if (!settings || (!preset && presetId !== 'default')) return conversation.systemPrompt;
  return resolveGenerationSettings({ settings, preset: preset ?? null, overrides: conversation.overrides }).systemPrompt;
}
