/**
 * Schema version 9: presets (issue 10, "Presets and parameters").
 *
 * Frozen history: once released, this file never changes.
 *
 * - `presets`: the user's own presets (the built-ins "Default", "Precise", "Creative" live in code,
 *   shared/presets.ts, and are never rows). One column per field of `presetFieldsSchema`; NULL in
 *   `system_prompt`, `max_reply_tokens` or `context_size` means "whatever Settings says", NULL in `seed`
 *   means random. CHECKs hold the same bounds as the schema, so a bad row cannot be written by any
 *   process. Names are unique regardless of ASCII case (`presets_name`).
 * - `conversations.preset_id`: the conversation's preset (a built-in id or a `presets.id`); NULL = Default.
 *   No foreign key (built-ins are not rows): the trigger `presets_delete_unassign` moves the conversations
 *   of a deleted preset back to Default, whichever process deletes it.
 * - `conversations.overrides_json`: the conversation's own values over its preset (JSON object,
 *   `presetOverridesSchema`); NULL = none. CHECKed to be a JSON object.
 *
 * Existing conversations keep behaving exactly as before: every chat conversation (source `app`) gets its
 * stored `system_prompt` as a system-prompt override, because that prompt was fixed when it was created and
 * never followed later changes of Settings' default system prompt; without the override it would. Their
 * preset is Default, whose sampling is llama.cpp's defaults, which every app reply used before this version;
 * reply length and context size keep coming from Settings, as before. API conversations (source `api`) take
 * their sampling from each request and get no override.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration009: Migration = {
  version: 9,
  name: 'presets',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      CREATE TABLE presets (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64 AND id NOT IN ('default', 'precise', 'creative')),
        name             TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 60 AND name = trim(name)),
        system_prompt    TEXT CHECK (system_prompt IS NULL OR length(system_prompt) <= 20000),
        temperature      REAL NOT NULL CHECK (temperature BETWEEN 0 AND 2),
        top_p            REAL NOT NULL CHECK (top_p BETWEEN 0 AND 1),
        min_p            REAL NOT NULL CHECK (min_p BETWEEN 0 AND 1),
        top_k            INTEGER NOT NULL CHECK (top_k BETWEEN 0 AND 1000),
        repeat_penalty   REAL NOT NULL CHECK (repeat_penalty BETWEEN 1 AND 2),
        max_reply_tokens INTEGER CHECK (max_reply_tokens IS NULL OR max_reply_tokens BETWEEN 1 AND 32768),
        seed             INTEGER CHECK (seed IS NULL OR seed BETWEEN 0 AND 4294967295),
        context_size     INTEGER CHECK (context_size IS NULL OR context_size BETWEEN 128 AND 131072),
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX presets_name ON presets (name COLLATE NOCASE);

      ALTER TABLE conversations ADD COLUMN preset_id TEXT CHECK (preset_id IS NULL OR length(preset_id) BETWEEN 1 AND 64);
      ALTER TABLE conversations ADD COLUMN overrides_json TEXT
        CHECK (overrides_json IS NULL OR (json_valid(overrides_json) AND json_type(overrides_json) = 'object'));
      CREATE INDEX conversations_preset_id ON conversations (preset_id) WHERE preset_id IS NOT NULL;

      CREATE TRIGGER presets_delete_unassign AFTER DELETE ON presets BEGIN
        UPDATE conversations SET preset_id = NULL WHERE preset_id = old.id;
      END;

      UPDATE conversations SET overrides_json = json_object('systemPrompt', system_prompt) WHERE source = 'app';
    `);
  },
};
