/**
 * How the UI shows and reads the preset parameters: labels, hints, bounds (from the shared zod schemas),
 * parsing what the user typed, formatting values, and a one-line summary of a preset.
 */
import {
  presetOverridesSchema,
  type OverridableField,
  type Preset,
  type ResolvedGenerationSettings,
} from '@shared/presets';

/** The numeric parameters, in the order the UI lists them. */
export const numericFields = ['temperature', 'topP', 'minP', 'topK', 'repeatPenalty', 'seed', 'maxReplyTokens', 'contextSize'] as const;
/** One numeric parameter. */
export type NumericField = (typeof numericFields)[number];

/** What the UI says about one parameter. */
export interface FieldMeta {
  label: string;
  /** One short line: what it does and its "off" value. */
  hint: string;
  /** Whole numbers only. */
  integer: boolean;
  /** Unit shown after the value, if any. */
  unit?: string;
  /** Typical input step (arrow keys). */
  step: number;
}

/** Labels and hints of every parameter (bounds come from `presetOverridesSchema`). */
export const fieldMeta: Record<OverridableField, FieldMeta> = {
  systemPrompt: { label: 'System prompt', hint: 'Instructions the model follows for the whole chat.', integer: false, step: 0 },
  temperature: { label: 'Temperature', hint: '0 always picks the likeliest word; higher is more varied.', integer: false, step: 0.05 },
  topP: { label: 'Top-p', hint: 'Keeps the likeliest words up to this probability; 1 is off.', integer: false, step: 0.01 },
  minP: { label: 'Min-p', hint: 'Drops words far less likely than the top one; 0 is off.', integer: false, step: 0.01 },
  topK: { label: 'Top-k', hint: 'Keeps only the k likeliest words; 0 is off.', integer: true, step: 1 },
  repeatPenalty: { label: 'Repeat penalty', hint: 'Discourages repeating the last 64 tokens; 1 is off.', integer: false, step: 0.05 },
  seed: { label: 'Seed', hint: 'A fixed seed repeats the same reply; empty is random.', integer: true, step: 1 },
  maxReplyTokens: { label: 'Max reply length', hint: 'Replies stop after this many tokens.', integer: true, unit: 'tokens', step: 64 },
  contextSize: { label: 'Context size', hint: 'Tokens the model keeps in view; larger uses more memory.', integer: true, unit: 'tokens', step: 512 },
};

/** The value of `field` in resolved settings. */
export function resolvedValue(resolved: ResolvedGenerationSettings, field: OverridableField): string | number | null {
  if (field === 'systemPrompt') return resolved.systemPrompt;
  if (field === 'maxReplyTokens') return resolved.maxReplyTokens;
  if (field === 'contextSize') return resolved.contextSize;
  return resolved.sampling[field];
}

/** A number as the inputs show it: up to 3 decimals, no trailing zeros; null (a random seed) as ''. */
export function formatNumber(value: number | null): string {
  if (value === null) return '';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

/**
 * Reads what the user typed for a numeric parameter. Blank is null for the seed (random) and an error
 * elsewhere; a comma is read as a decimal point. Checked against the shared schema's bounds.
 * @returns the value, or a one-line error that names the accepted range.
 */
export function parseNumber(field: NumericField, text: string): { ok: true; value: number | null } | { ok: false; error: string } {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return field === 'seed' ? { ok: true, value: null } : { ok: false, error: `Enter a number (${rangeText(field)}).` };
  const value = Number(trimmed);
  const checked = presetOverridesSchema.shape[field].safeParse(value);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) || !checked.success) {
    return { ok: false, error: `${fieldMeta[field].integer ? 'A whole number' : 'A number'} from ${rangeText(field)}.` };
  }
  return { ok: true, value };
}

/** The accepted range of a numeric parameter, e.g. "0 to 2" (the schemas' bounds). */
export function rangeText(field: NumericField): string {
  const ranges: Record<NumericField, string> = {
    temperature: '0 to 2',
    topP: '0 to 1',
    minP: '0 to 1',
    topK: '0 to 1000',
    repeatPenalty: '1 to 2',
    seed: '0 to 4294967295',
    maxReplyTokens: '1 to 32768',
    contextSize: '128 to 131072',
  };
  return ranges[field];
}

/** One line about a preset's sampling, e.g. "Temperature 0.2 · top-p 0.95 · min-p 0.05 · top-k 40". */
export function presetSummary(preset: Preset): string {
  const parts = [`Temperature ${formatNumber(preset.temperature)}`, `top-p ${formatNumber(preset.topP)}`, `min-p ${formatNumber(preset.minP)}`, `top-k ${preset.topK}`];
  if (preset.repeatPenalty !== 1) parts.push(`repeat ${formatNumber(preset.repeatPenalty)}`);
  if (preset.seed !== null) parts.push(`seed ${preset.seed}`);
  if (preset.maxReplyTokens !== null) parts.push(`${preset.maxReplyTokens} tokens max`);
  if (preset.contextSize !== null) parts.push(`context ${preset.contextSize}`);
  return parts.join(' · ');
}

/** What a built-in preset is for, in a few words (shown under its name). */
export function presetPurpose(preset: Preset): string | null {
  if (preset.id === 'default') return 'llama.cpp’s defaults';
  if (preset.id === 'precise') return 'Focused: facts, code, extraction';
  if (preset.id === 'creative') return 'Varied: stories, ideas, brainstorming';
  return preset.systemPrompt ? 'Own system prompt' : null;
}
