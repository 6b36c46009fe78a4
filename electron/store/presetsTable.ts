/**
 * The user's presets in SQLite (table `presets`, migration 009) and each conversation's preset and
 * overrides (`conversations.preset_id`, `conversations.overrides_json`). The built-in presets live in code
 * (shared/presets.ts) and are never rows here.
 *
 * Part of the {@link import('./store.js').Store} (`store.presets`); it shares the store's connection,
 * clock and error mapping. Validation of what users type happens before (electron/core/presets.ts); the
 * table's CHECKs hold the same bounds, so nothing out of range is ever stored.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { overridableFields, presetOverridesSchema, type Preset, type PresetFields, type PresetOverrides } from '../../shared/presets.js';
import { sqliteCode } from './storeError.js';

/** Thrown by {@link PresetsTable.create} and {@link PresetsTable.update} when another preset has the name (ASCII case ignored). */
export class PresetNameTakenError extends Error {
  override readonly name = 'PresetNameTakenError';
  constructor(readonly presetName: string) {
    super(`A preset named "${presetName}" already exists: choose another name`);
  }
}

interface Row {
  id: string;
  name: string;
  system_prompt: string | null;
  temperature: number;
  top_p: number;
  min_p: number;
  top_k: number;
  repeat_penalty: number;
  max_reply_tokens: number | null;
  seed: number | null;
  context_size: number | null;
}

/** The named parameters of an INSERT or UPDATE. */
type Params = Omit<Row, 'id'> & { id: string; at: number };

function toPreset(row: Row): Preset {
  return {
    id: row.id,
    name: row.name,
    builtIn: false,
    systemPrompt: row.system_prompt,
    temperature: row.temperature,
    topP: row.top_p,
    minP: row.min_p,
    topK: row.top_k,
    repeatPenalty: row.repeat_penalty,
    maxReplyTokens: row.max_reply_tokens,
    seed: row.seed,
    contextSize: row.context_size,
  };
}

function toParams(id: string, fields: PresetFields, at: number): Params {
  return {
    id,
    at,
    name: fields.name,
    system_prompt: fields.systemPrompt,
    temperature: fields.temperature,
    top_p: fields.topP,
    min_p: fields.minP,
    top_k: fields.topK,
    repeat_penalty: fields.repeatPenalty,
    max_reply_tokens: fields.maxReplyTokens,
    seed: fields.seed,
    context_size: fields.contextSize,
  };
}

/**
 * Reads `conversations.overrides_json` field by field: each field that passes its schema is kept, one that
 * does not (or a field a newer Wattwise added) is dropped, so one bad value never loses the others. Returns
 * null for NULL, for JSON that is not an object, and when no field is left.
 */
export function parseStoredOverrides(json: string | null): PresetOverrides | null {
  if (json === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const out: Record<string, unknown> = {};
  const shape = presetOverridesSchema.shape;
  for (const field of overridableFields) {
    if (!Object.prototype.hasOwnProperty.call(raw, field)) continue;
    const checked = shape[field].safeParse((raw as Record<string, unknown>)[field]);
    if (checked.success && checked.data !== undefined) out[field] = checked.data;
  }
  return Object.keys(out).length === 0 ? null : (out as PresetOverrides);
}

/** The JSON stored for `overrides`: NULL when there are none. */
export function overridesJson(overrides: PresetOverrides | null): string | null {
  return overrides && Object.keys(overrides).length > 0 ? JSON.stringify(overrides) : null;
}

/** The `presets` table and the conversations' preset columns. */
export class PresetsTable {
  private readonly all: Database.Statement<[], Row>;
  private readonly byId: Database.Statement<[string], Row>;
  private readonly insert: Database.Statement<[Params]>;
  private readonly change: Database.Statement<[Params]>;
  private readonly remove: Database.Statement<[string]>;
  private readonly using: Database.Statement<[string], { id: string }>;
  private readonly assignStmt: Database.Statement<[string | null, string | null, string]>;
  private readonly txDelete: Database.Transaction<(id: string) => { deleted: boolean; movedConversationIds: string[] }>;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly wrap: <T>(fn: () => T) => T,
  ) {
    const columns = `id, name, system_prompt, temperature, top_p, min_p, top_k, repeat_penalty, max_reply_tokens, seed, context_size`;
    this.all = db.prepare(`SELECT ${columns} FROM presets ORDER BY seq`);
    this.byId = db.prepare(`SELECT ${columns} FROM presets WHERE id = ?`);
    this.insert = db.prepare(`
      INSERT INTO presets (id, name, system_prompt, temperature, top_p, min_p, top_k, repeat_penalty, max_reply_tokens, seed, context_size, created_at, updated_at)
      VALUES (@id, @name, @system_prompt, @temperature, @top_p, @min_p, @top_k, @repeat_penalty, @max_reply_tokens, @seed, @context_size, @at, @at)`);
    this.change = db.prepare(`
      UPDATE presets SET name = @name, system_prompt = @system_prompt, temperature = @temperature, top_p = @top_p, min_p = @min_p,
        top_k = @top_k, repeat_penalty = @repeat_penalty, max_reply_tokens = @max_reply_tokens, seed = @seed,
        context_size = @context_size, updated_at = @at
      WHERE id = @id`);
    this.remove = db.prepare(`DELETE FROM presets WHERE id = ?`);
    this.using = db.prepare(`SELECT id FROM conversations WHERE preset_id = ?`);
    this.assignStmt = db.prepare(`UPDATE conversations SET preset_id = ?, overrides_json = ? WHERE id = ?`);
    this.txDelete = db.transaction((id: string) => {
      const moved = this.using.all(id).map((r) => r.id);
      // The trigger presets_delete_unassign moves them back to Default.
      const deleted = this.remove.run(id).changes > 0;
      return { deleted, movedConversationIds: deleted ? moved : [] };
    });
  }

  /** The user's presets, oldest first. @throws StoreError when the database cannot be read. */
  list(): Preset[] {
    return this.wrap(() => this.all.all().map(toPreset));
  }

  /** The user's preset with this id, or null. @throws StoreError when the database cannot be read. */
  get(id: string): Preset | null {
    return this.wrap(() => {
      const row = this.byId.get(id);
      return row === undefined ? null : toPreset(row);
    });
  }

  /**
   * Stores a new preset with a new UUID. `fields` must already be valid (`presetFieldsSchema`).
   * @throws PresetNameTakenError when another user preset has the name (ASCII case ignored).
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  create(fields: PresetFields): Preset {
    const id = randomUUID();
    this.named(fields.name, () => this.insert.run(toParams(id, fields, this.now())));
    return { id, builtIn: false, ...fields };
  }

  /**
   * Replaces every field of the user's preset `id`. Returns null when there is none.
   * @throws PresetNameTakenError when another user preset has the name (ASCII case ignored).
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  update(id: string, fields: PresetFields): Preset | null {
    const changes = this.named(fields.name, () => this.change.run(toParams(id, fields, this.now())).changes);
    return changes === 0 ? null : { id, builtIn: false, ...fields };
  }

  /**
   * Deletes the user's preset `id`; the conversations using it go back to Default (their overrides are
   * kept). Returns whether it existed and the ids of the conversations that moved.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  delete(id: string): { deleted: boolean; movedConversationIds: string[] } {
    return this.wrap(() => this.txDelete.immediate(id));
  }

  /**
   * Sets a conversation's preset (null = Default) and overrides (null or empty = none). Returns false when
   * there is no such conversation. Does not check that the preset exists (the caller does).
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED`.
   */
  assign(conversationId: string, presetId: string | null, overrides: PresetOverrides | null): boolean {
    return this.wrap(() => this.assignStmt.run(presetId, overridesJson(overrides), conversationId).changes > 0);
  }

  /** Runs a write that names a preset: a UNIQUE violation on the name becomes {@link PresetNameTakenError}. */
  private named<T>(name: string, write: () => T): T {
    return this.wrap(() => {
      try {
        return write();
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE' && /presets\.name/.test(String((error as Error).message))) throw new PresetNameTakenError(name);
        throw error;
      }
    });
  }
}
