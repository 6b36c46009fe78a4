/**
 * Presets: a named system prompt + sampling + reply length + context size that a conversation uses, and
 * the conversation's own overrides of it. Three are built in ("Default", "Precise", "Creative"); the user's
 * own are stored in SQLite (table `presets`, migration 009).
 *
 * What a reply is generated with is {@link resolveGenerationSettings}: for every field, the conversation's
 * override, else the preset's value, else the app's settings (the Settings dialog's default system prompt,
 * reply length and context size; llama.cpp's own sampling defaults). The function is pure: the backend
 * uses it for every app reply and the renderer for the chat header, so both always agree.
 *
 * Runtime-neutral (no Node, DOM or Electron imports): shared by the backend and the renderer.
 */
import { z } from 'zod';
import type { Settings } from './contract.js';

// ---------------------------------------------------------------------------------------------
// Field schemas (bounds shared by presets and overrides)
// ---------------------------------------------------------------------------------------------

/** Sampling temperature: 0 = greedy (always the most likely token); llama.cpp accepts any ≥ 0, above 2 is noise. */
export const temperatureSchema = z.number().min(0).max(2);
/** Nucleus sampling: keep the smallest set of tokens whose probabilities add up to this; 1 = off. */
export const topPSchema = z.number().min(0).max(1);
/** Min-p sampling: drop tokens below this fraction of the most likely token's probability; 0 = off. */
export const minPSchema = z.number().min(0).max(1);
/** Top-k sampling: keep the k most likely tokens; 0 = off (the whole vocabulary). */
export const topKSchema = z.number().int().min(0).max(1000);
/**
 * Repeat penalty over the last 64 tokens (llama.cpp `penalty_last_n`): 1 = off; 1.1 is the classic value.
 * Below 1 would reward repetition, which no one wants, hence the minimum.
 */
export const repeatPenaltySchema = z.number().min(1).max(2);
/** Reply length cap, tokens (the same bounds as Settings' `maxReplyTokens`). */
export const maxReplyTokensSchema = z.number().int().min(1).max(32768);
/** Context size, tokens (the same bounds as Settings' `contextSize`). */
export const contextSizeSchema = z.number().int().min(128).max(131072);
/** Random seed (llama.cpp takes a 32-bit unsigned seed); null = a new random seed for every reply. */
export const seedSchema = z.number().int().min(0).max(0xffffffff).nullable();
/** A system prompt (the same bound as Settings' `defaultSystemPrompt`). */
export const systemPromptSchema = z.string().max(20000);
/** A preset's name: 1 to 60 characters after trimming. */
export const presetNameSchema = z.string().trim().min(1, 'a preset needs a name').max(60, 'at most 60 characters');

/** The ids of the built-in presets. */
export const builtInPresetIdSchema = z.enum(['default', 'precise', 'creative']);
/** The id of a built-in preset. */
export type BuiltInPresetId = z.infer<typeof builtInPresetIdSchema>;

/**
 * What a preset sets. `systemPrompt`, `maxReplyTokens` and `contextSize` may be null: "whatever Settings
 * says" (the built-ins use that, so changing Settings changes them). `seed` null means random.
 */
export const presetFieldsSchema = z.object({
  name: presetNameSchema,
  /** Null = Settings' default system prompt. */
  systemPrompt: systemPromptSchema.nullable(),
  temperature: temperatureSchema,
  topP: topPSchema,
  minP: minPSchema,
  topK: topKSchema,
  repeatPenalty: repeatPenaltySchema,
  /** Null = Settings' reply length. */
  maxReplyTokens: maxReplyTokensSchema.nullable(),
  seed: seedSchema,
  /** Null = Settings' context size. */
  contextSize: contextSizeSchema.nullable(),
});
/** What a preset sets. */
export type PresetFields = z.infer<typeof presetFieldsSchema>;

/** A preset: built in (read-only) or the user's own. */
export const presetSchema = presetFieldsSchema.extend({
  /** `default`, `precise`, `creative` for the built-ins; a UUID for the user's own. */
  id: z.string().min(1).max(64),
  builtIn: z.boolean(),
});
/** A preset. */
export type Preset = z.infer<typeof presetSchema>;

/**
 * A conversation's own values over its preset: every field optional (absent = the preset's). Stored as
 * JSON in `conversations.overrides_json` and carried as is by export/import.
 */
export const presetOverridesSchema = z
  .object({
    systemPrompt: systemPromptSchema,
    temperature: temperatureSchema,
    topP: topPSchema,
    minP: minPSchema,
    topK: topKSchema,
    repeatPenalty: repeatPenaltySchema,
    maxReplyTokens: maxReplyTokensSchema,
    /** null = random, overriding a preset's fixed seed. */
    seed: seedSchema,
    contextSize: contextSizeSchema,
  })
  .partial()
  .strict();
/** A conversation's own values over its preset. */
export type PresetOverrides = z.infer<typeof presetOverridesSchema>;

/** The fields a conversation can override, in the order the UI lists them. */
export const overridableFields = ['systemPrompt', 'temperature', 'topP', 'minP', 'topK', 'repeatPenalty', 'maxReplyTokens', 'seed', 'contextSize'] as const;
/** One overridable field. */
export type OverridableField = (typeof overridableFields)[number];

// ---------------------------------------------------------------------------------------------
// Built-ins
// ---------------------------------------------------------------------------------------------

/**
 * llama.cpp's own sampling defaults (`common_params_sampling` in common/common.h: `temp = 0.80f`,
 * `top_k = 40`, `top_p = 0.95f`, `min_p = 0.05f`, `penalty_repeat = 1.00f`, random seed). What every app
 * reply used before presets existed, and what "Default" keeps.
 */
export const LLAMA_CPP_SAMPLING_DEFAULTS = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: null } as const;

/** The id of the preset a conversation without one uses. */
export const DEFAULT_PRESET_ID: BuiltInPresetId = 'default';

/**
 * The built-in presets, read-only. None sets a system prompt, reply length or context size of its own
 * (null = Settings'), so they differ in sampling only:
 * - **Default**: llama.cpp's defaults ({@link LLAMA_CPP_SAMPLING_DEFAULTS}); what replies used before presets.
 * - **Precise**: temperature 0.2, the rest as Default. A low temperature sharpens the distribution toward
 *   the most likely tokens (factual answers, code, extraction) while staying above 0, where greedy
 *   decoding tends to loop on small models.
 * - **Creative**: temperature 1.0 (the model's own distribution, unsharpened) with top-p 0.95 and min-p
 *   0.05 left on: min-p keeps high-temperature sampling coherent by cutting the improbable tail relative
 *   to the top token (Nguyen et al. 2024, "Turning Up the Heat: Min-p Sampling for Creative and Coherent
 *   LLM Outputs", arXiv:2407.01082, which recommends 0.05–0.1).
 */
export const BUILT_IN_PRESETS: readonly Preset[] = [
  { id: 'default', name: 'Default', builtIn: true, systemPrompt: null, ...LLAMA_CPP_SAMPLING_DEFAULTS, maxReplyTokens: null, contextSize: null },
  { id: 'precise', name: 'Precise', builtIn: true, systemPrompt: null, ...LLAMA_CPP_SAMPLING_DEFAULTS, temperature: 0.2, maxReplyTokens: null, contextSize: null },
  { id: 'creative', name: 'Creative', builtIn: true, systemPrompt: null, ...LLAMA_CPP_SAMPLING_DEFAULTS, temperature: 1, topP: 0.95, minP: 0.05, maxReplyTokens: null, contextSize: null },
];

/** The built-in "Default" preset. */
export const DEFAULT_PRESET: Preset = BUILT_IN_PRESETS[0]!;

/** Whether `id` names a built-in preset. */
export function isBuiltInPresetId(id: string): id is BuiltInPresetId {
  return builtInPresetIdSchema.safeParse(id).success;
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** Where an effective value came from: the conversation's override, its preset, or the app's settings. */
export type ValueSource = 'override' | 'preset' | 'settings';

/** Sampling as the engine takes it (electron/engine/types.ts `SamplingOptions`), every field decided. */
export interface ResolvedSampling {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  /** null = random. */
  seed: number | null;
}

/** What an app reply is generated with, and where each value came from. */
export interface ResolvedGenerationSettings {
  /** The preset in effect (Default when the conversation has none or its preset is gone). */
  preset: Pick<Preset, 'id' | 'name' | 'builtIn'>;
  systemPrompt: string;
  sampling: ResolvedSampling;
  /** Reply length cap, tokens. */
  maxReplyTokens: number;
  /** Context size, tokens. */
  contextSize: number;
  /** For each overridable field, where its value came from (the header shows "overridden", "from preset"). */
  sources: Record<OverridableField, ValueSource>;
}

/** The parts of Settings that a preset can defer to. */
export type PresetSettingsBase = Pick<Settings, 'defaultSystemPrompt' | 'maxReplyTokens' | 'contextSize'>;

/**
 * The effective generation settings of a conversation. For each field, in this order:
 * 1. the conversation's override (`overrides[field]`, when present; `seed: null` overrides to random),
 * 2. the preset's value (when not null; `seed` is always the preset's),
 * 3. the app's settings: `defaultSystemPrompt`, `maxReplyTokens`, `contextSize` (the sampling fields are
 *    never null in a preset, so they never get here).
 *
 * @param input.settings the app settings (with the process's overrides, e.g. the CLI's `--max-tokens`).
 * @param input.preset the conversation's preset; null (none chosen, or deleted) = {@link DEFAULT_PRESET}.
 * @param input.overrides the conversation's overrides; null = none.
 * @returns the values and their sources. Pure: never throws, never reads anything else.
 */
export function resolveGenerationSettings(input: {
  settings: PresetSettingsBase;
  preset: Preset | null;
  overrides: PresetOverrides | null;
}): ResolvedGenerationSettings {
  const preset = input.preset ?? DEFAULT_PRESET;
  const overrides = input.overrides ?? {};
  const has = (field: OverridableField) => Object.prototype.hasOwnProperty.call(overrides, field) && overrides[field] !== undefined;
  const sources = {} as Record<OverridableField, ValueSource>;
  /** Override, else the preset's non-null value, else the settings'. */
  function pick<T>(field: OverridableField, fromPreset: T | null, fromSettings: T): T {
    if (has(field)) {
      sources[field] = 'override';
      return overrides[field] as T;
    }
    if (fromPreset !== null) {
      sources[field] = 'preset';
      return fromPreset;
    }
    sources[field] = 'settings';
    return fromSettings;
  }
  const systemPrompt = pick('systemPrompt', preset.systemPrompt, input.settings.defaultSystemPrompt);
  const temperature = pick('temperature', preset.temperature, LLAMA_CPP_SAMPLING_DEFAULTS.temperature);
  const topP = pick('topP', preset.topP, LLAMA_CPP_SAMPLING_DEFAULTS.topP);
  const minP = pick('minP', preset.minP, LLAMA_CPP_SAMPLING_DEFAULTS.minP);
  const topK = pick('topK', preset.topK, LLAMA_CPP_SAMPLING_DEFAULTS.topK);
  const repeatPenalty = pick('repeatPenalty', preset.repeatPenalty, LLAMA_CPP_SAMPLING_DEFAULTS.repeatPenalty);
  const maxReplyTokens = pick('maxReplyTokens', preset.maxReplyTokens, input.settings.maxReplyTokens);
  const contextSize = pick('contextSize', preset.contextSize, input.settings.contextSize);
  let seed: number | null;
  if (has('seed')) {
    sources.seed = 'override';
    seed = overrides.seed ?? null;
  } else {
    // A preset's null seed is a choice ("random"), not a deferral: there is no seed in Settings.
    sources.seed = 'preset';
    seed = preset.seed;
  }
  return {
    preset: { id: preset.id, name: preset.name, builtIn: preset.builtIn },
    systemPrompt,
    sampling: { temperature, topK, topP, minP, repeatPenalty, seed },
    maxReplyTokens,
    contextSize,
    sources,
  };
}

/**
 * The overrides with `field` removed (the header's "reset to preset"); null when none are left, so a
 * conversation with no overrides stores NULL.
 */
export function withoutOverride(overrides: PresetOverrides | null, field: OverridableField): PresetOverrides | null {
  if (!overrides) return null;
  const rest: PresetOverrides = { ...overrides };
  delete rest[field];
  return Object.keys(rest).length === 0 ? null : rest;
}

/**
 * The fields of a new preset holding a conversation's effective values ("Save as new preset…"): the
 * resolved values, except that what came from Settings stays null (so the new preset keeps following Settings).
 */
export function presetFieldsFromResolved(resolved: ResolvedGenerationSettings, name: string): PresetFields {
  const fromSettings = (field: OverridableField) => resolved.sources[field] === 'settings';
  return {
    name,
    systemPrompt: fromSettings('systemPrompt') ? null : resolved.systemPrompt,
    temperature: resolved.sampling.temperature,
    topP: resolved.sampling.topP,
    minP: resolved.sampling.minP,
    topK: resolved.sampling.topK,
    repeatPenalty: resolved.sampling.repeatPenalty,
    maxReplyTokens: fromSettings('maxReplyTokens') ? null : resolved.maxReplyTokens,
    seed: resolved.sampling.seed,
    contextSize: fromSettings('contextSize') ? null : resolved.contextSize,
  };
}
