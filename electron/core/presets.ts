/**
 * Presets behind the API (`presets.*`, `conversations.setPreset`, and what app replies are generated
 * with): the built-ins from shared/presets.ts plus the user's own from the store, the rules on editing
 * them, and each conversation's effective settings ({@link resolveGenerationSettings}).
 *
 * Errors are {@link PresetError}s with a code from the contract's closed set (the backend maps them);
 * storage failures stay `StoreError`s. No Electron imports.
 */
import {
  BUILT_IN_PRESETS,
  DEFAULT_PRESET_ID,
  isBuiltInPresetId,
  resolveGenerationSettings,
  withoutOverride,
  type Preset,
  type PresetFields,
  type PresetOverrides,
  type PresetSettingsBase,
  type ResolvedGenerationSettings,
} from '../../shared/presets.js';
import type { ConversationSummary } from '../../shared/contract.js';
import type { SamplingOptions } from '../engine/types.js';
import type { Store } from '../store/store.js';
import { PresetNameTakenError } from '../store/presetsTable.js';

/** A preset call that cannot be done: `BAD_INPUT` (a built-in, a taken name) or `NOT_FOUND` (an unknown id). */
export class PresetError extends Error {
  override readonly name = 'PresetError';
  constructor(
    readonly code: 'BAD_INPUT' | 'NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

/** What {@link PresetService} needs. */
export interface PresetServiceOptions {
  store: Store;
  /** The settings presets defer to, with this process's overrides (e.g. the CLI's `--max-tokens`). */
  settings: () => PresetSettingsBase;
}

/** Presets: list, create, edit, delete, and what a conversation's replies are generated with. */
export class PresetService {
  constructor(private readonly options: PresetServiceOptions) {}

  /** The built-ins (Default, Precise, Creative), then the user's presets, oldest first. @throws StoreError */
  list(): Preset[] {
    return [...BUILT_IN_PRESETS, ...this.options.store.presets.list()];
  }

  /**
   * The preset with this id (a built-in's or the user's); null for none. `null` asks for Default.
   * @throws StoreError when the store cannot be read.
   */
  find(id: string | null): Preset | null {
    const wanted = id ?? DEFAULT_PRESET_ID;
    return BUILT_IN_PRESETS.find((p) => p.id === wanted) ?? this.options.store.presets.get(wanted);
  }

  /**
   * Stores a new user preset.
   * @throws PresetError `BAD_INPUT` when another preset (built-ins included) has the name, case ignored.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  create(fields: PresetFields): Preset {
    this.assertNameFree(fields.name, null);
    return this.named(() => this.options.store.presets.create(fields));
  }

  /**
   * Replaces every field of the user preset `id`.
   * @throws PresetError `BAD_INPUT` for a built-in or a taken name; `NOT_FOUND` for an unknown id.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  update(id: string, fields: PresetFields): Preset {
    if (isBuiltInPresetId(id)) {
      throw new PresetError('BAD_INPUT', `"${this.find(id)?.name ?? id}" is a built-in preset and cannot be edited: duplicate it and edit the copy`);
    }
    this.assertNameFree(fields.name, id);
    const updated = this.named(() => this.options.store.presets.update(id, fields));
    if (!updated) throw new PresetError('NOT_FOUND', `No preset with id ${id}`);
    return updated;
  }

  /**
   * Deletes the user preset `id`; its conversations go back to Default (keeping their overrides).
   * @returns whether it existed and which conversations moved.
   * @throws PresetError `BAD_INPUT` for a built-in.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  delete(id: string): { deleted: boolean; movedConversationIds: string[] } {
    if (isBuiltInPresetId(id)) throw new PresetError('BAD_INPUT', `"${this.find(id)?.name ?? id}" is a built-in preset and cannot be deleted`);
    return this.options.store.presets.delete(id);
  }

  /**
   * The preset id to store for a conversation: null for Default (stored as NULL), the id otherwise.
   * @throws PresetError `NOT_FOUND` for an unknown preset.
   */
  checkPresetId(presetId: string | null): string | null {
    if (presetId === null || presetId === DEFAULT_PRESET_ID) return null;
    if (!this.find(presetId)) throw new PresetError('NOT_FOUND', `No preset with id ${presetId}`);
    return presetId;
  }

  /**
   * The overrides of a new conversation: `overrides`, plus `systemPrompt` as a system-prompt override when
   * it differs from what the preset (and `overrides` without a system prompt) would give; a `systemPrompt`
   * equal to that is no override, so the conversation keeps following its preset. Empty = null.
   */
  overridesForNew(presetId: string | null, overrides: PresetOverrides | null, systemPrompt: string | undefined): PresetOverrides | null {
    if (systemPrompt === undefined) return overrides && Object.keys(overrides).length > 0 ? overrides : null;
    const rest = withoutOverride(overrides, 'systemPrompt');
    const base = resolveGenerationSettings({ settings: this.options.settings(), preset: this.find(presetId), overrides: rest });
    return systemPrompt === base.systemPrompt ? rest : { ...rest, systemPrompt };
  }

  /**
   * What a conversation's next reply is generated with: its overrides, else its preset's values (Default
   * when it has none or its preset is gone), else the settings. @throws StoreError when the store cannot be read.
   */
  resolveFor(conversation: Pick<ConversationSummary, 'presetId' | 'overrides'>): ResolvedGenerationSettings {
    return resolveGenerationSettings({ settings: this.options.settings(), preset: this.find(conversation.presetId), overrides: conversation.overrides });
  }

  /** The engine's sampling options for resolved settings (a null seed is left out: random). */
  static sampling(resolved: ResolvedGenerationSettings): SamplingOptions {
    const { seed, ...rest } = resolved.sampling;
    return seed === null ? rest : { ...rest, seed };
  }

  /** Fails when another preset than `exceptId` is called `name` (Unicode case ignored; built-in names included). */
  private assertNameFree(name: string, exceptId: string | null): void {
    const lower = name.toLocaleLowerCase();
    const clash = this.list().find((p) => p.id !== exceptId && p.name.toLocaleLowerCase() === lower);
    if (clash) throw new PresetError('BAD_INPUT', `A preset named "${clash.name}" already exists: choose another name`);
  }

  /** Runs a store write, turning a name clash found by the database (another process) into `BAD_INPUT`. */
  private named<T>(write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (error instanceof PresetNameTakenError) throw new PresetError('BAD_INPUT', error.message);
      throw error;
    }
  }
}
