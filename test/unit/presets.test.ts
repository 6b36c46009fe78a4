/**
 * Presets, the pure part (shared/presets.ts): the built-ins' values, the resolution order (conversation
 * override > preset > app settings) with where each value came from, and the schemas' bounds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUILT_IN_PRESETS,
  DEFAULT_PRESET,
  LLAMA_CPP_SAMPLING_DEFAULTS,
  overridableFields,
  presetFieldsFromResolved,
  presetFieldsSchema,
  presetOverridesSchema,
  presetSchema,
  resolveGenerationSettings,
  withoutOverride,
  type Preset,
  type PresetOverrides,
} from '../../shared/presets.js';
import { parseStoredOverrides } from '../../electron/store/presetsTable.js';

const settings = { defaultSystemPrompt: 'Settings prompt', maxReplyTokens: 512, contextSize: 2048 };
const precise = BUILT_IN_PRESETS.find((p) => p.id === 'precise')!;
const creative = BUILT_IN_PRESETS.find((p) => p.id === 'creative')!;

/** A user preset that sets every field itself. */
const full: Preset = {
  id: 'u1',
  name: 'Full',
  builtIn: false,
  systemPrompt: 'Preset prompt',
  temperature: 0.5,
  topP: 0.8,
  minP: 0.1,
  topK: 20,
  repeatPenalty: 1.15,
  maxReplyTokens: 256,
  seed: 7,
  contextSize: 4096,
};

/** An override of every field, each different from `full` and from the settings. */
const everyOverride: Required<PresetOverrides> = {
  systemPrompt: 'Override prompt',
  temperature: 1.3,
  topP: 0.7,
  minP: 0.2,
  topK: 5,
  repeatPenalty: 1.3,
  maxReplyTokens: 64,
  seed: 99,
  contextSize: 1024,
};

describe('built-in presets', () => {
  test('Default, Precise and Creative, valid, read-only, following Settings for prompt, length and context', () => {
    assert.deepEqual(
      BUILT_IN_PRESETS.map((p) => [p.id, p.name, p.builtIn]),
      [
        ['default', 'Default', true],
        ['precise', 'Precise', true],
        ['creative', 'Creative', true],
      ],
    );
    for (const p of BUILT_IN_PRESETS) {
      assert.ok(presetSchema.safeParse(p).success, p.name);
      assert.equal(p.systemPrompt, null);
      assert.equal(p.maxReplyTokens, null);
      assert.equal(p.contextSize, null);
      assert.equal(p.seed, null);
    }
  });

  test('Default is llama.cpp\'s own sampling (common/common.h), what replies used before presets', () => {
    assert.deepEqual(LLAMA_CPP_SAMPLING_DEFAULTS, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: null });
    const { temperature, topK, topP, minP, repeatPenalty, seed } = DEFAULT_PRESET;
    assert.deepEqual({ temperature, topK, topP, minP, repeatPenalty, seed }, LLAMA_CPP_SAMPLING_DEFAULTS);
  });

  test('Precise is colder and Creative warmer than Default, with min-p kept on', () => {
    assert.equal(precise.temperature, 0.2);
    assert.equal(creative.temperature, 1);
    assert.equal(creative.topP, 0.95);
    assert.ok(creative.minP > 0);
  });
});

describe('resolveGenerationSettings: override > preset > settings', () => {
  test('no preset and no overrides: Default, with Settings\' prompt, reply length and context size', () => {
    const r = resolveGenerationSettings({ settings, preset: null, overrides: null });
    assert.deepEqual(r.preset, { id: 'default', name: 'Default', builtIn: true });
    assert.equal(r.systemPrompt, 'Settings prompt');
    assert.equal(r.maxReplyTokens, 512);
    assert.equal(r.contextSize, 2048);
    assert.deepEqual(r.sampling, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: null });
    assert.deepEqual(r.sources, {
      systemPrompt: 'settings',
      temperature: 'preset',
      topP: 'preset',
      minP: 'preset',
      topK: 'preset',
      repeatPenalty: 'preset',
      maxReplyTokens: 'settings',
      seed: 'preset',
      contextSize: 'settings',
    });
  });

  test('a built-in changes only sampling; Settings still give the rest', () => {
    const r = resolveGenerationSettings({ settings, preset: precise, overrides: null });
    assert.equal(r.sampling.temperature, 0.2);
    assert.equal(r.sources.temperature, 'preset');
    assert.equal(r.systemPrompt, 'Settings prompt');
    assert.equal(r.maxReplyTokens, 512);
  });

  test('a preset\'s own values win over Settings', () => {
    const r = resolveGenerationSettings({ settings, preset: full, overrides: null });
    assert.equal(r.systemPrompt, 'Preset prompt');
    assert.equal(r.maxReplyTokens, 256);
    assert.equal(r.contextSize, 4096);
    assert.deepEqual(r.sampling, { temperature: 0.5, topK: 20, topP: 0.8, minP: 0.1, repeatPenalty: 1.15, seed: 7 });
    for (const field of overridableFields) assert.equal(r.sources[field], 'preset', field);
  });

  /** The resolved values as one flat record, field by field. */
  const flat = (r: ReturnType<typeof resolveGenerationSettings>) => ({ systemPrompt: r.systemPrompt, maxReplyTokens: r.maxReplyTokens, contextSize: r.contextSize, ...r.sampling });

  for (const field of overridableFields) {
    test(`an override of ${field} alone wins over the preset and Settings, and changes nothing else`, () => {
      for (const preset of [null, precise, full]) {
        const overrides = { [field]: everyOverride[field] } as PresetOverrides;
        const r = resolveGenerationSettings({ settings, preset, overrides });
        const base = resolveGenerationSettings({ settings, preset, overrides: null });
        assert.deepEqual(flat(r), { ...flat(base), [field]: everyOverride[field] }, `${field} over ${preset?.name ?? 'no preset'}`);
        assert.deepEqual(r.sources, { ...base.sources, [field]: 'override' });
        assert.deepEqual(r.preset, base.preset);
      }
    });
  }

  test('every field overridden at once: nothing of the preset or Settings is left', () => {
    const r = resolveGenerationSettings({ settings, preset: full, overrides: everyOverride });
    assert.equal(r.systemPrompt, 'Override prompt');
    assert.equal(r.maxReplyTokens, 64);
    assert.equal(r.contextSize, 1024);
    assert.deepEqual(r.sampling, { temperature: 1.3, topK: 5, topP: 0.7, minP: 0.2, repeatPenalty: 1.3, seed: 99 });
    assert.ok(overridableFields.every((f) => r.sources[f] === 'override'));
    assert.deepEqual(r.preset, { id: 'u1', name: 'Full', builtIn: false });
  });

  test('an empty system prompt override is a real override (no system prompt), not "unset"', () => {
    const r = resolveGenerationSettings({ settings, preset: full, overrides: { systemPrompt: '' } });
    assert.equal(r.systemPrompt, '');
    assert.equal(r.sources.systemPrompt, 'override');
  });

  test('seed: a null override makes a fixed-seed preset random; an undefined one is ignored', () => {
    const random = resolveGenerationSettings({ settings, preset: full, overrides: { seed: null } });
    assert.equal(random.sampling.seed, null);
    assert.equal(random.sources.seed, 'override');
    const ignored = resolveGenerationSettings({ settings, preset: full, overrides: { temperature: undefined } as PresetOverrides });
    assert.equal(ignored.sampling.temperature, 0.5);
    assert.equal(ignored.sources.temperature, 'preset');
  });

  test('Settings changes reach a conversation only where nothing above them is set', () => {
    const overrides = { systemPrompt: 'Mine' };
    const changed = { defaultSystemPrompt: 'New default', maxReplyTokens: 100, contextSize: 8192 };
    const r = resolveGenerationSettings({ settings: changed, preset: creative, overrides });
    assert.equal(r.systemPrompt, 'Mine');
    assert.equal(r.maxReplyTokens, 100);
    assert.equal(r.contextSize, 8192);
  });
});

describe('helpers and schemas', () => {
  test('withoutOverride drops one field; none left is null', () => {
    assert.deepEqual(withoutOverride({ temperature: 0.3, topK: 3 }, 'temperature'), { topK: 3 });
    assert.equal(withoutOverride({ temperature: 0.3 }, 'temperature'), null);
    assert.equal(withoutOverride(null, 'temperature'), null);
  });

  test('"Save as new preset" keeps what came from Settings as null', () => {
    const r = resolveGenerationSettings({ settings, preset: creative, overrides: { temperature: 1.4, maxReplyTokens: 99 } });
    const fields = presetFieldsFromResolved(r, 'Hot');
    assert.deepEqual(fields, {
      name: 'Hot',
      systemPrompt: null,
      temperature: 1.4,
      topP: 0.95,
      minP: 0.05,
      topK: 40,
      repeatPenalty: 1,
      maxReplyTokens: 99,
      seed: null,
      contextSize: null,
    });
    assert.ok(presetFieldsSchema.safeParse(fields).success);
  });

  test('the overrides schema refuses unknown fields and values out of range', () => {
    assert.ok(presetOverridesSchema.safeParse({}).success);
    assert.ok(presetOverridesSchema.safeParse(everyOverride).success);
    for (const bad of [{ temp: 1 }, { temperature: -1 }, { temperature: 2.1 }, { topP: 1.5 }, { topK: 2.5 }, { repeatPenalty: 0.5 }, { maxReplyTokens: 0 }, { seed: -3 }, { contextSize: 100 }, { systemPrompt: 5 }]) {
      assert.equal(presetOverridesSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  test('a preset name is trimmed and must not be blank or over 60 characters', () => {
    const base = { ...DEFAULT_PRESET } as Record<string, unknown>;
    delete base.id;
    delete base.builtIn;
    assert.equal(presetFieldsSchema.parse({ ...base, name: '  Spaced  ' }).name, 'Spaced');
    assert.equal(presetFieldsSchema.safeParse({ ...base, name: '   ' }).success, false);
    assert.equal(presetFieldsSchema.safeParse({ ...base, name: 'x'.repeat(61) }).success, false);
  });

  test('stored overrides are read field by field: a bad or unknown field is dropped, the rest kept', () => {
    assert.deepEqual(parseStoredOverrides('{"temperature":0.3,"topK":-5,"futureField":1,"seed":null}'), { temperature: 0.3, seed: null });
    assert.equal(parseStoredOverrides(null), null);
    assert.equal(parseStoredOverrides('{}'), null);
    assert.equal(parseStoredOverrides('[1]'), null);
    assert.equal(parseStoredOverrides('nope'), null);
  });
});
