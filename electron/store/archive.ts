/**
 * The store's side of export and import (`shared/archive.ts` is the format): reading a conversation's power
 * trace for an export, and writing whole archived conversations back — conversation, messages with their
 * stats, energy and governor record, and power samples — exactly as they were exported.
 *
 * Ids: a conversation keeps its id and its messages' ids unless one of them is already taken in this database
 * (the same archive imported twice, or into the database it came from); then the conversation and all its
 * messages get new ids (random UUIDs), and its samples follow their messages. One transaction per conversation:
 * a failure (a full disk) keeps the conversations already imported and none of the one that failed.
 *
 * Adding a field: a new column of `conversations` or `messages` is one line in {@link conversationColumns} or
 * {@link messageColumns} (the insert statements are built from them).
 *
 * No Electron imports. Errors: {@link ArchiveImportError} for an archive that fails validation (nothing is
 * written); storage failures as the store's `StoreError` (through the store's `wrap`).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ConversationSummary, Message, MessageVersion } from '../../shared/contract.js';
import { validateConversationArchive, type ArchivedConversation, type ArchivedPowerSample } from '../../shared/archive.js';
import type { ImportResult } from '../../shared/dataContract.js';
import { isBuiltInPresetId, type Preset } from '../../shared/presets.js';
import { overridesJson } from './presetsTable.js';
import { StoreError } from './storeError.js';

/** A value SQLite stores. */
type SqlValue = string | number | null;

/** An archive that cannot be imported: `message` says what is wrong (e.g. `conversations[0].messages[2].role: …`). */
export class ArchiveImportError extends Error {
  override readonly name = 'ArchiveImportError';
}

/**
 * The columns an imported conversation writes besides `id`, each from its summary. The aggregates of the summary
 * (`messageCount`, tokens, `energyJ`) are not columns: they are computed from the messages. Imported titles count
 * as chosen (`title_is_auto` 0) and imported conversations are chat conversations (`source` 'app').
 */
const conversationColumns: Record<string, (c: ConversationSummary) => SqlValue> = {
  title: (c) => c.title,
  system_prompt: (c) => c.systemPrompt,
  model_path: (c) => c.modelPath,
  pinned_model_path: (c) => c.pinnedModelPath,
  created_at: (c) => c.createdAt,
  updated_at: (c) => c.updatedAt,
  preset_id: (c) => c.presetId,
  overrides_json: (c) => overridesJson(c.overrides),
  title_is_auto: () => 0,
  source: () => 'app',
};

/**
 * The columns an imported message (or one version of a reply) writes besides `id`, `conversation_id`,
 * `alternative_group` and `hidden` (see {@link storedVersions}). A reply that was still `streaming` when it was
 * exported is imported `interrupted` (nobody is writing it here), with the text it had.
 */
const messageColumns: Record<string, (m: MessageVersion) => SqlValue> = {
  role: (m) => m.role,
  content: (m) => m.content,
  status: (m) => (m.status === 'streaming' ? 'interrupted' : m.status),
  created_at: (m) => m.createdAt,
  error: (m) => m.error,
  stats_model_path: (m) => m.stats?.modelPath ?? null,
  stats_model_name: (m) => m.stats?.modelName ?? null,
  stats_quantization: (m) => m.stats?.quantization ?? null,
  prompt_tokens: (m) => m.stats?.promptTokens ?? null,
  prefill_tokens: (m) => m.stats?.prefillTokens ?? null,
  completion_tokens: (m) => m.stats?.completionTokens ?? null,
  ttft_ms: (m) => m.stats?.ttftMs ?? null,
  prefill_tokens_per_second: (m) => m.stats?.prefillTokensPerSecond ?? null,
  decode_tokens_per_second: (m) => m.stats?.decodeTokensPerSecond ?? null,
  threads: (m) => m.stats?.threads ?? null,
  context_size: (m) => m.stats?.contextSize ?? null,
  started_at: (m) => m.stats?.startedAt ?? null,
  ended_at: (m) => m.stats?.endedAt ?? null,
  re_evaluated_tokens: (m) => m.stats?.reEvaluatedTokens ?? null,
  energy_j: (m) => m.energy?.energyJ ?? null,
  energy_j_per_token: (m) => m.energy?.energyJPerToken ?? null,
  avg_power_w: (m) => m.energy?.avgPowerW ?? null,
  peak_power_w: (m) => m.energy?.peakPowerW ?? null,
  baseline_power_w: (m) => m.energy?.baselinePowerW ?? null,
  energy_source_id: (m) => m.energy?.sourceId ?? null,
  energy_source_label: (m) => m.energy?.sourceLabel ?? null,
  energy_measured: (m) => (m.energy ? (m.energy.measured ? 1 : 0) : null),
  energy_method: (m) => m.energy?.method ?? null,
  energy_fallback_reason: (m) => m.energy?.fallbackReason ?? null,
  energy_sample_count: (m) => m.energy?.sampleCount ?? null,
  governor_profile: (m) => m.governor?.profile ?? null,
  governor_reason: (m) => m.governor?.reason ?? null,
};

/** The columns of an imported user preset besides `id` (table `presets`, migration 009). */
const presetColumns: Record<string, (p: Preset) => SqlValue> = {
  name: (p) => p.name,
  system_prompt: (p) => p.systemPrompt,
  temperature: (p) => p.temperature,
  top_p: (p) => p.topP,
  min_p: (p) => p.minP,
  top_k: (p) => p.topK,
  repeat_penalty: (p) => p.repeatPenalty,
  max_reply_tokens: (p) => p.maxReplyTokens,
  seed: (p) => p.seed,
  context_size: (p) => p.contextSize,
};

/** Longest preset name (`presetNameSchema`). */
const maxPresetNameChars = 60;

/**
 * The rows one exported message is stored as (migration 010): itself, or, for a reply with alternatives, every
 * version oldest first, all in the group named after the first version's id (`groupOf`, mapped to its id here),
 * the shown one (the message's own id) with `hidden` 0 and the others 1.
 */
export function storedVersions(m: Message): Array<{ version: MessageVersion; groupOf: string | null; hidden: 0 | 1 }> {
  const members = m.alternatives ?? [];
  if (members.length < 2) return [{ version: m, groupOf: null, hidden: 0 }];
  const groupOf = members[0]!.id;
  return members.map((version) => ({ version: version.id === m.id ? m : version, groupOf, hidden: version.id === m.id ? 0 : 1 }));
}

/** Every message id an archived conversation uses (alternatives included). */
function messageIdsOf(entry: ArchivedConversation): string[] {
  return entry.messages.flatMap((m) => storedVersions(m).map((v) => v.version.id));
}

/** `INSERT INTO table (id, <fixed>, <columns>) VALUES (@id, @<fixed>, @<columns>)`. */
function insertSql(table: string, fixed: readonly string[], columns: Record<string, unknown>): string {
  const names = ['id', ...fixed, ...Object.keys(columns)];
  return `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`;
}

/** `row` with each column's value from `columns`. */
function rowOf<T>(columns: Record<string, (value: T) => SqlValue>, value: T): Record<string, SqlValue> {
  const row: Record<string, SqlValue> = {};
  for (const [name, read] of Object.entries(columns)) row[name] = read(value);
  return row;
}

/** The archive side of the store: built by the store over its open database (see `Store.archive`). */
export class ArchiveTable {
  private readonly stmt;
  private readonly txImport: Database.Transaction<(entry: ArchivedConversation, presets: ReadonlyMap<string, Preset>) => { id: string; renamed: boolean }>;

  /**
   * @param db the store's open database (schema up to date).
   * @param now the store's clock, ms since the epoch (an imported preset's `created_at`).
   * @param wrap the store's error mapping (SQLite failures → `StoreError`).
   */
  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly wrap: <T>(fn: () => T) => T,
  ) {
    this.stmt = {
      conversationExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM conversations WHERE id = ?'),
      messageExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM messages WHERE id = ?'),
      presetExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM presets WHERE id = ?'),
      presetNameTaken: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM presets WHERE name = ? COLLATE NOCASE'),
      insertConversation: db.prepare<[Record<string, SqlValue>]>(insertSql('conversations', [], conversationColumns)),
      insertMessage: db.prepare<[Record<string, SqlValue>]>(insertSql('messages', ['conversation_id', 'alternative_group', 'hidden'], messageColumns)),
      insertPreset: db.prepare<[Record<string, SqlValue>]>(insertSql('presets', ['created_at', 'updated_at'], presetColumns)),
      insertSample: db.prepare<[Record<string, SqlValue>]>(
        `INSERT INTO power_samples (conversation_id, message_id, at, power_w, source_id, source_label, measured)
         VALUES (@conversation_id, @message_id, @at, @power_w, @source_id, @source_label, @measured)
         ON CONFLICT DO NOTHING`,
      ),
      samples: db.prepare<[string], { at: number; power_w: number; source_id: string; source_label: string; measured: number; message_id: string | null }>(
        'SELECT at, power_w, source_id, source_label, measured, message_id FROM power_samples WHERE conversation_id = ? ORDER BY at',
      ),
    };
    this.txImport = db.transaction((entry: ArchivedConversation, presets: ReadonlyMap<string, Preset>) => {
      const taken =
        this.stmt.conversationExists.get(entry.conversation.id) !== undefined || messageIdsOf(entry).some((mid) => this.stmt.messageExists.get(mid) !== undefined);
      const id = taken ? randomUUID() : entry.conversation.id;
      const presetId = this.presetFor(entry.conversation.presetId, presets);
      this.stmt.insertConversation.run({ id, ...rowOf(conversationColumns, { ...entry.conversation, presetId }) });
      const messageIds = new Map<string, string>();
      const newId = (old: string) => {
        const known = messageIds.get(old);
        if (known !== undefined) return known;
        const fresh = taken ? randomUUID() : old;
        messageIds.set(old, fresh);
        return fresh;
      };
      for (const m of entry.messages) {
        for (const { version, groupOf, hidden } of storedVersions(m)) {
          this.stmt.insertMessage.run({
            id: newId(version.id),
            conversation_id: id,
            alternative_group: groupOf === null ? null : newId(groupOf),
            hidden,
            ...rowOf(messageColumns, version),
          });
        }
      }
      for (const s of entry.powerSamples ?? []) {
        this.stmt.insertSample.run({
          conversation_id: id,
          message_id: s.messageId === null ? null : (messageIds.get(s.messageId) ?? null),
          at: s.at,
          power_w: s.powerW,
          source_id: s.sourceId,
          source_label: s.sourceLabel,
          measured: s.measured ? 1 : 0,
        });
      }
      return { id, renamed: taken };
    });
  }

  /**
   * The preset id an imported conversation gets (inside its transaction): a built-in's as it is; a user preset
   * that exists here (same id) as it is; a user preset the archive carries is added first (same id; a name taken
   * here gets " (imported)", " (imported 2)"…); otherwise null (Default), the conversation keeping its overrides.
   */
  private presetFor(presetId: string | null, presets: ReadonlyMap<string, Preset>): string | null {
    if (presetId === null || isBuiltInPresetId(presetId)) return presetId;
    if (this.stmt.presetExists.get(presetId) !== undefined) return presetId;
    const preset = presets.get(presetId);
    if (preset === undefined || preset.builtIn) return null;
    let name = preset.name;
    for (let n = 1; this.stmt.presetNameTaken.get(name) !== undefined; n++) {
      if (n > 100) return null;
      const suffix = n === 1 ? ' (imported)' : ` (imported ${n})`;
      name = `${Array.from(preset.name).slice(0, maxPresetNameChars - suffix.length).join('').trimEnd()}${suffix}`;
    }
    const at = this.now();
    this.stmt.insertPreset.run({ id: presetId, created_at: at, updated_at: at, ...rowOf(presetColumns, { ...preset, name }) });
    return presetId;
  }

  /** The stored power trace of a conversation, oldest first, each sample with the reply it belongs to (none: empty). */
  powerSamples(conversationId: string): ArchivedPowerSample[] {
    return this.wrap(() =>
      this.stmt.samples.all(conversationId).map((r) => ({
        at: r.at,
        powerW: r.power_w,
        sourceId: r.source_id,
        sourceLabel: r.source_label,
        measured: r.measured === 1,
        messageId: r.message_id,
      })),
    );
  }

  /**
   * Imports every conversation of `archive` (validated again here, whole, before anything is written), in order,
   * one IMMEDIATE transaction each (see the module doc for ids, and {@link presetFor} for presets).
   *
   * @returns how many conversations and messages were added, their ids here, and how many got new ids.
   * @throws ArchiveImportError when the archive fails validation (nothing written).
   * @throws StoreError (`STORAGE_FULL`, `STORAGE_FAILED`) when a write fails: the conversations before the one
   *   that failed stay imported, and the message says how many.
   */
  importConversations(archive: unknown): ImportResult {
    const checked = validateConversationArchive(archive);
    if (!checked.ok) throw new ArchiveImportError(checked.message);
    const presets = new Map((checked.archive.presets ?? []).map((p) => [p.id, p] as const));
    const total = checked.archive.conversations.length;
    const result: ImportResult = { imported: 0, conversationIds: [], renamedIds: 0, messages: 0 };
    for (const entry of checked.archive.conversations) {
      let written: { id: string; renamed: boolean };
      try {
        written = this.wrap(() => this.txImport.immediate(entry, presets));
      } catch (error) {
        if (!(error instanceof StoreError) || result.imported === 0) throw error;
        throw new StoreError(error.code, `${error.message} (${result.imported} of ${total} conversations were imported before this)`, { cause: error });
      }
      result.imported += 1;
      result.conversationIds.push(written.id);
      if (written.renamed) result.renamedIds += 1;
      result.messages += entry.messages.length;
    }
    return result;
  }
}
