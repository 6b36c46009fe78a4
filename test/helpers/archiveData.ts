/**
 * Realistic history for the export/import/backup tests, written through the real store into a real SQLite file:
 * conversations with replies that carry stats, energy (measured and estimated), a governor reason, a stopped and a
 * failed reply, a power trace attributed to the replies, and a user preset with overrides.
 */
import { join } from 'node:path';
import type { ReplyEnergy, ReplyStats } from '../../shared/contract.js';
import { Store } from '../../electron/store/store.js';
import { databasePath } from '../../electron/core/paths.js';

/** Stats of a reply that ran from `startedAt` for `durationMs`. */
export function statsAt(startedAt: number, durationMs: number, overrides: Partial<ReplyStats> = {}): ReplyStats {
  return {
    modelPath: '/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf',
    modelName: 'Qwen2.5 0.5B Instruct',
    quantization: 'Q4_K_M',
    promptTokens: 42,
    prefillTokens: 40,
    completionTokens: 25,
    ttftMs: 180.5,
    prefillTokensPerSecond: 221.6,
    decodeTokensPerSecond: 31.25,
    threads: 4,
    contextSize: 2048,
    startedAt,
    endedAt: startedAt + durationMs,
    ...overrides,
  };
}

/** An energy record of `energyJ` over `tokens` tokens. */
export function energyOf(energyJ: number, tokens: number, measured: boolean): ReplyEnergy {
  return {
    energyJ,
    energyJPerToken: energyJ / tokens,
    avgPowerW: 7.5,
    peakPowerW: 9.25,
    baselinePowerW: 4.5,
    sourceId: measured ? 'linux-battery:BAT0' : 'estimate',
    sourceLabel: measured ? 'battery sensor' : 'estimated',
    measured,
    method: measured ? 'system-minus-baseline' : 'estimate',
    fallbackReason: measured ? null : 'no readable power sensor',
    sampleCount: 3,
  };
}

/** What {@link seedHistory} made. */
export interface SeededHistory {
  /** The conversations, oldest first. */
  conversationIds: string[];
  /** The user preset the second conversation uses. */
  presetId: string;
}

/**
 * Writes two chat conversations into `<dataDir>/wattwise.sqlite` (created if needed) and closes the store:
 * 1. "Why is the sky blue?": a system prompt, a question, a complete reply chosen by the governor with measured
 *    energy and a power trace of three samples (two attributed to the reply, one between replies), a second question
 *    and a stopped reply with estimated energy;
 * 2. "Write a haiku": a user preset with an override, a question and a failed reply (error text, no stats).
 */
export function seedHistory(dataDir: string, startAt = 1_780_000_000_000): SeededHistory {
  let t = startAt;
  const store = Store.open({ filePath: databasePath(dataDir), now: () => t });
  try {
    const a = store.createConversation({ systemPrompt: 'You are a physics teacher.', modelPath: null });
    t += 1000;
    store.addMessage({ conversationId: a.id, role: 'user', content: 'Why is the sky blue?', status: 'complete' });
    t += 10;
    const r1 = store.addMessage({ conversationId: a.id, role: 'assistant', content: '', status: 'streaming' });
    t += 2000;
    store.finishMessage(r1.id, {
      content: 'Because of **Rayleigh scattering**: shorter wavelengths scatter more.\n\n- blue: strong\n- red: weak',
      status: 'complete',
      stats: statsAt(t - 1900, 1800),
      error: null,
      energy: energyOf(3.75, 25, true),
      governor: { profile: 'balanced', reason: 'On battery, 41% left → Qwen2.5 0.5B Q4_K_M at 0.15 J/token' },
    });
    store.addPowerSamples(a.id, r1.id, [
      { at: t - 1500, powerW: 11.5, sourceId: 'linux-battery:BAT0', sourceLabel: 'battery sensor', measured: true },
      { at: t - 500, powerW: 12.25, sourceId: 'linux-battery:BAT0', sourceLabel: 'battery sensor', measured: true },
    ]);
    t += 5000;
    store.addPowerSamples(a.id, null, [{ at: t, powerW: 4.5, sourceId: 'linux-battery:BAT0', sourceLabel: 'battery sensor', measured: true }]);
    t += 1000;
    store.addMessage({ conversationId: a.id, role: 'user', content: 'And at sunset?', status: 'complete' });
    t += 10;
    const r2 = store.addMessage({ conversationId: a.id, role: 'assistant', content: '', status: 'streaming' });
    t += 900;
    store.finishMessage(r2.id, {
      content: 'The light crosses more air, so',
      status: 'stopped',
      stats: statsAt(t - 850, 800, { completionTokens: 8, promptTokens: 80, prefillTokens: 12 }),
      error: null,
      energy: energyOf(0.5, 8, false),
      governor: null,
    });

    t += 60_000;
    const preset = store.presets.create({
      name: 'Terse',
      systemPrompt: 'Answer in one line.',
      temperature: 0.2,
      topP: 0.9,
      minP: 0.05,
      topK: 40,
      repeatPenalty: 1.1,
      maxReplyTokens: 128,
      seed: 42,
      contextSize: 1024,
    });
    const b = store.createConversation({ systemPrompt: 'Answer in one line.', modelPath: '/models/tiny.gguf', pinnedModelPath: '/models/tiny.gguf', presetId: preset.id, overrides: { temperature: 0.3 } });
    t += 1000;
    store.addMessage({ conversationId: b.id, role: 'user', content: 'Write a haiku', status: 'complete' });
    t += 10;
    const r3 = store.addMessage({ conversationId: b.id, role: 'assistant', content: '', status: 'streaming' });
    t += 100;
    store.finishMessage(r3.id, { content: '', status: 'error', stats: null, error: 'The model file is not a valid GGUF', energy: null, governor: null });
    return { conversationIds: [a.id, b.id], presetId: preset.id };
  } finally {
    store.close();
  }
}

/** The backups folder of a data folder. */
export function backupsFolderOf(dataDir: string): string {
  return join(dataDir, 'backups');
}
