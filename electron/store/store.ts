/**
 * The Wattwise store: conversations, messages (with each reply's energy), power traces, settings,
 * thread calibrations and the power governor's measurements in one SQLite file
 * (better-sqlite3, synchronous). No Electron imports: the Electron shell passes the path of its
 * Electron-ABI build of better-sqlite3 as `nativeBinding`; the CLI, the HTTP server and the tests use
 * better-sqlite3's own.
 *
 * Durability: WAL journal with `synchronous=FULL`, so every call that returned has reached the disk
 * and survives a killed process or a power cut. A reply that was still streaming when the process
 * died is marked `interrupted` (with its last flushed content) the next time the store is opened.
 *
 * Errors: every public method that touches SQLite throws {@link StoreError} (`STORAGE_FULL`,
 * `STORAGE_FAILED`, `NOT_FOUND`) for storage failures; see each method for the rest.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { titleSource } from '../../shared/attachments.js';
import { z } from 'zod';
import {
  profileIdSchema,
  replyEnergySchema,
  settingsSchema,
  threadTrialSchema,
  type ConversationDetail,
  type ConversationEnergy,
  type ConversationSource,
  type ConversationSummary,
  type DailyEnergy,
  type EnergyTrace,
  type Message,
  type MessageStatus,
  type PowerSample,
  type ReplyEnergy,
  type ReplyStats,
  type Role,
  type Settings,
  type ThreadCalibration,
} from '../../shared/contract.js';
import type { CalibrationStore } from '../engine/types.js';
import { exportFileName, localDay, toCsv, type CsvCell } from './csv.js';
import { assertKnownSchemaVersion, latestSchemaVersion, migrate, schemaVersion } from './migrations/index.js';
import { StoreError, toStoreError } from './storeError.js';
import { CalibrationTable } from './calibrationTable.js';
import { ModelFactsTable } from './modelFactsTable.js';
import { AlternativesTable } from './alternatives.js';
import { PresetsTable, parseStoredOverrides } from './presetsTable.js';
import { ArchiveTable } from './archive.js';
import { backupDatabaseTo, checkDatabaseFileWith } from './backup.js';
import type { ImportResult } from '../../shared/dataContract.js';
import type { PresetOverrides } from '../../shared/presets.js';

/**
 * What {@link Store.openForReading} found: the store opened read-only, no database file yet, or a database
 * of an older schema (it needs {@link Store.open}'s migrations, which write).
 */
export type ReadOnlyOpenResult = { kind: 'open'; store: Store } | { kind: 'missing' } | { kind: 'outdated'; schemaVersion: number };

/** How {@link Store.open} opens the database. */
export interface StoreOptions {
  /** Path of the SQLite file; parent folders are created. */
  filePath: string;
  /** Path of a better_sqlite3.node built for the current runtime (Electron passes its Electron-ABI build); default: better-sqlite3's own. */
  nativeBinding?: string;
  /** Key identifying this machine for calibrations (e.g. CPU model + core count); default 'default'. */
  machineKey?: string;
  /** Clock, ms since epoch; default Date.now (tests inject). */
  now?: () => number;
  /**
   * Test-only: caps the database at this many pages (`PRAGMA max_page_count`, applied after the
   * migrations; never below the current size) so a test can fill it and see `STORAGE_FULL` the way a
   * full disk reports it. Leave unset in the app.
   */
  maxPageCount?: number;
  /** Whether a writer process runs (tests inject one); default {@link isProcessAlive}. */
  isProcessAlive?: (pid: number) => boolean;
}

/** The title of a new conversation until its first user message names it. */
export const defaultConversationTitle = 'New chat';

/**
 * The title of the API conversation of local day `day` (`YYYY-MM-DD`): `API requests · YYYY-MM-DD`
 * (a middle dot, U+00B7, between spaces). See {@link Store.apiConversation}.
 */
export function apiConversationTitle(day: string): string {
  return `API requests · ${day}`;
}

/** Longest automatic title, in characters (code points), before the '…'. */
const autoTitleMaxChars = 60;

/**
 * The automatic title for a conversation whose first user message is `content`: the first non-blank
 * line, whitespace collapsed, cut at 60 characters on a word boundary (hard cut when the first 60
 * characters hold no space past their middle) with '…' appended when cut. A blank message gives
 * {@link defaultConversationTitle}. A message with attached files is named by its typed text, or by the
 * files' names when nothing was typed (see `titleSource` in shared/attachments.ts).
 */
export function deriveTitle(content: string): string {
  const line = titleSource(content).split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  const collapsed = line.replace(/\s+/g, ' ').trim();
  const chars = Array.from(collapsed);
  if (chars.length === 0) return defaultConversationTitle;
  if (chars.length <= autoTitleMaxChars) return collapsed;
  const head = chars.slice(0, autoTitleMaxChars);
  const lastSpace = head.lastIndexOf(' ');
  const cut = lastSpace >= autoTitleMaxChars / 2 ? head.slice(0, lastSpace) : head;
  return `${cut.join('').trimEnd()}…`;
}

/** At most this many terms of a search query are used. */
const maxSearchTerms = 16;
/** Each search term is cut to this many characters (a shorter prefix still matches). */
const maxSearchTermChars = 64;

/**
 * Turns arbitrary user text into a safe FTS5 query: whitespace-separated terms, each quoted as an
 * FTS5 string (`"` doubled) and prefix-matched (`"term"*`), all required (implicit AND). Terms with
 * no letter or digit (`*`, `(`, `"`, emoji...) cannot match anything under the unicode61 tokenizer
 * and are dropped; control characters are treated as spaces. Operators such as `AND`, `NEAR(` or
 * `col:` lose their meaning because they are quoted. Returns null when no term is left.
 */
export function toFtsQuery(query: string): string | null {
  const terms = query
    .replace(/\p{Cc}/gu, ' ')
    .split(/\s+/u)
    .filter((t) => /[\p{L}\p{N}\p{Co}]/u.test(t))
    .slice(0, maxSearchTerms)
    .map((t) => `"${Array.from(t).slice(0, maxSearchTermChars).join('').replace(/"/g, '""')}"*`);
  return terms.length === 0 ? null : terms.join(' ');
}

/** Thrown by {@link Store.updateSettings} for a patch that fails the settings schema. */
export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';
  constructor(
    message: string,
    /** The zod issues: `path` (e.g. `['contextSize']`) and `message` each. */
    readonly issues: readonly { path: PropertyKey[]; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

interface SummaryRow {
  id: string;
  title: string;
  systemPrompt: string;
  modelPath: string | null;
  pinnedModelPath: string | null;
  presetId: string | null;
  overridesJson: string | null;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  promptTokens: number;
  completionTokens: number;
  energyJ: number;
  snippet: string | null;
}

/** A `messages` row as `messageColumns` selects it: its own columns plus the stats and energy columns. */
interface MessageRow extends StatsParams, EnergyParams {
  id: string;
  conversation_id: string;
  role: Role;
  content: string;
  status: MessageStatus;
  created_at: number;
  error: string | null;
  governor_profile?: string | null;
  governor_reason?: string | null;
  /** Migration 010: the reply's alternatives group (null = none) and whether this version is hidden (1). */
  alternative_group?: string | null;
  hidden?: number;
}

interface CalibrationRow {
  model_path: string;
  model_size_bytes: number;
  best_threads: number;
  trials_json: string;
  measured_at: number;
}

/** The stats columns of `messages`, as named parameters. */
interface StatsParams {
  stats_model_path: string | null;
  stats_model_name: string | null;
  stats_quantization: string | null;
  prompt_tokens: number | null;
  prefill_tokens: number | null;
  completion_tokens: number | null;
  ttft_ms: number | null;
  prefill_tokens_per_second: number | null;
  decode_tokens_per_second: number | null;
  threads: number | null;
  context_size: number | null;
  started_at: number | null;
  ended_at: number | null;
  re_evaluated_tokens: number | null;
}

function statsParams(stats: ReplyStats | null | undefined): StatsParams {
  return {
    stats_model_path: stats?.modelPath ?? null,
    stats_model_name: stats?.modelName ?? null,
    stats_quantization: stats?.quantization ?? null,
    prompt_tokens: stats?.promptTokens ?? null,
    prefill_tokens: stats?.prefillTokens ?? null,
    completion_tokens: stats?.completionTokens ?? null,
    ttft_ms: stats?.ttftMs ?? null,
    prefill_tokens_per_second: stats?.prefillTokensPerSecond ?? null,
    decode_tokens_per_second: stats?.decodeTokensPerSecond ?? null,
    threads: stats?.threads ?? null,
    context_size: stats?.contextSize ?? null,
    started_at: stats?.startedAt ?? null,
    ended_at: stats?.endedAt ?? null,
    re_evaluated_tokens: stats?.reEvaluatedTokens ?? null,
  };
}

/** The energy columns of `messages`, as named parameters (all NULL when the message has no energy). */
interface EnergyParams {
  energy_j: number | null;
  energy_j_per_token: number | null;
  avg_power_w: number | null;
  peak_power_w: number | null;
  baseline_power_w: number | null;
  energy_source_id: string | null;
  energy_source_label: string | null;
  energy_measured: number | null;
  energy_method: string | null;
  energy_fallback_reason: string | null;
  energy_sample_count: number | null;
}

function energyParams(e: ReplyEnergy | null): EnergyParams {
  return {
    energy_j: e?.energyJ ?? null,
    energy_j_per_token: e?.energyJPerToken ?? null,
    avg_power_w: e?.avgPowerW ?? null,
    peak_power_w: e?.peakPowerW ?? null,
    baseline_power_w: e?.baselinePowerW ?? null,
    energy_source_id: e?.sourceId ?? null,
    energy_source_label: e?.sourceLabel ?? null,
    energy_measured: e === null ? null : e.measured ? 1 : 0,
    energy_method: e?.method ?? null,
    energy_fallback_reason: e?.fallbackReason ?? null,
    energy_sample_count: e?.sampleCount ?? null,
  };
}

/**
 * The message's energy from its columns: null when `energy_j` is NULL (no energy recorded, e.g. every
 * message written before schema version 3) and when the stored columns do not make a valid
 * {@link ReplyEnergy} (a method this build does not know, a missing field): reading never throws.
 */
function toEnergy(row: MessageRow): ReplyEnergy | null {
  if (row.energy_j === null) return null;
  const checked = replyEnergySchema.safeParse({
    energyJ: row.energy_j,
    energyJPerToken: row.energy_j_per_token,
    avgPowerW: row.avg_power_w,
    peakPowerW: row.peak_power_w,
    baselinePowerW: row.baseline_power_w,
    sourceId: row.energy_source_id,
    sourceLabel: row.energy_source_label,
    measured: row.energy_measured === null ? null : row.energy_measured === 1,
    method: row.energy_method,
    fallbackReason: row.energy_fallback_reason,
    sampleCount: row.energy_sample_count,
  });
  return checked.success ? checked.data : null;
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    role: row.role,
    content: row.content,
    status: row.status,
    createdAt: row.created_at,
    stats:
      row.stats_model_path === null
        ? null
        : {
            modelPath: row.stats_model_path,
            modelName: row.stats_model_name ?? '',
            quantization: row.stats_quantization,
            promptTokens: row.prompt_tokens ?? 0,
            prefillTokens: row.prefill_tokens ?? 0,
            completionTokens: row.completion_tokens ?? 0,
            ttftMs: row.ttft_ms ?? 0,
            prefillTokensPerSecond: row.prefill_tokens_per_second ?? 0,
            decodeTokensPerSecond: row.decode_tokens_per_second ?? 0,
            threads: row.threads ?? 1,
            contextSize: row.context_size ?? 1,
            startedAt: row.started_at ?? 0,
            endedAt: row.ended_at ?? 0,
            ...(row.re_evaluated_tokens != null ? { reEvaluatedTokens: row.re_evaluated_tokens } : {}),
          },
    error: row.error,
    energy: toEnergy(row),
    governor: toGovernor(row),
  };
}

/**
 * A conversation's shown messages in order, each reply with alternatives carrying all its versions
 * (oldest first, hidden ones included) as `alternatives`. `rows` are all of the conversation's rows by `seq`.
 */
function withAlternatives(rows: readonly MessageRow[]): Message[] {
  const groups = new Map<string, MessageRow[]>();
  for (const row of rows) {
    if (row.alternative_group == null) continue;
    const members = groups.get(row.alternative_group) ?? [];
    members.push(row);
    groups.set(row.alternative_group, members);
  }
  return rows
    .filter((row) => row.hidden !== 1)
    .map((row) => {
      const message = toMessage(row);
      const members = row.alternative_group == null ? undefined : groups.get(row.alternative_group);
      return members && members.length > 1 ? { ...message, alternatives: members.map(toMessage) } : message;
    });
}

/** The governor's record on a reply, when the governor chose its model with a known profile. */
function toGovernor(row: MessageRow): Message['governor'] {
  const profile = profileIdSchema.safeParse(row.governor_profile);
  return profile.success ? { profile: profile.data, reason: row.governor_reason ?? '' } : null;
}

function toSummary(row: SummaryRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    systemPrompt: row.systemPrompt,
    modelPath: row.modelPath,
    pinnedModelPath: row.pinnedModelPath,
    presetId: row.presetId,
    overrides: parseStoredOverrides(row.overridesJson),
    energyJ: row.energyJ,
    messageCount: row.messageCount,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    // Snippets come from message text: flatten its newlines and runs of spaces for a one-line excerpt.
    snippet: row.snippet === null ? null : row.snippet.replace(/\s+/g, ' ').trim(),
  };
}

const trialsSchema = z.array(threadTrialSchema);

/** What {@link Store.addMessage} takes. */
export interface AddMessageInput {
  conversationId: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  /** Engine statistics (assistant replies); default null. */
  stats?: ReplyStats | null;
  /** Why generation failed (status `error`); default null. */
  error?: string | null;
  /** The alternatives group the reply joins (see {@link AlternativesTable.keepAsAlternative}); default none. */
  alternativeGroup?: string | null;
}

/**
 * Which power-governor profile chose the model variant that answered, and why (one line each), as
 * recorded with a reply by {@link Store.finishMessage} and read back by {@link Store.getMessageGovernor}.
 * Only these two lines of the governor's decision (the contract's `GovernorDecision`) are stored.
 */
export interface MessageGovernor {
  /** The profile in effect, e.g. "battery-saver". */
  profile: string;
  /** Why this variant was chosen, e.g. "Q4_K_M: 0.4 J/token fits the battery target". */
  reason: string;
}

/** What {@link Store.finishMessage} takes. */
export interface FinishMessageInput {
  content: string;
  status: MessageStatus;
  stats: ReplyStats | null;
  error: string | null;
  /** The reply's energy; omitted or null: none (stored as NULL columns). Validated with `replyEnergySchema`. */
  energy?: ReplyEnergy | null;
  /** The governor's decision behind the reply; omitted or null: none. */
  governor?: MessageGovernor | null;
}

/**
 * How one model file has performed on this machine, from the stored replies (for the power
 * governor). Built by {@link Store.modelPerformance} from assistant messages with stats, status
 * `complete` or `stopped`, and at least {@link minPerformanceCompletionTokens} completion tokens
 * (shorter replies time mostly overhead).
 */
export interface ModelPerformance {
  /** The model file (`stats.modelPath`). */
  modelPath: string;
  /** Its display name in the most recent of those replies (`stats.modelName`). */
  modelName: string;
  /** How many replies qualified. */
  replies: number;
  /** Median decode speed, tokens/s. */
  medianDecodeTokensPerSecond: number;
  /** Median prefill speed over the replies that evaluated at least one prompt token, tokens/s; null when none did (every prompt came from the KV cache). */
  medianPrefillTokensPerSecond: number | null;
  /** Median J/token over the replies with energy; null when none has energy. */
  medianEnergyJPerToken: number | null;
  /** Median average power over the replies with energy, in W; null when none has energy. */
  medianAvgPowerW: number | null;
  /** Share (0..1) of the replies with energy whose energy was measured rather than estimated; null when none has energy. */
  measuredShare: number | null;
  /** The thread count used most (ties: the one used last). */
  threads: number;
  /** When the last of those replies ended, ms since the epoch. */
  lastAt: number;
}

/**
 * Replies shorter than this many completion tokens are left out of {@link Store.modelPerformance}:
 * their timings are mostly prompt and start-up overhead. Source: the threshold set in issue 4 (the
 * power governor's brief), not a measurement.
 */
export const minPerformanceCompletionTokens = 8;

/** What {@link Store.modelLoadCosts} returns. */
export interface ModelLoadCosts {
  /** Median load wall time, in ms. */
  medianLoadMs: number;
  /** Median load energy over the loads that have one, in J; null when none has. */
  medianLoadEnergyJ: number | null;
  /** How many loads the medians are over. */
  samples: number;
}

/**
 * {@link Store.modelLoadCosts} uses at most this many of the most recent loads, so the medians follow
 * changes of disk, page cache and file (a design choice, not a measurement: 20 loads keep one
 * outlier from moving the median while staying recent).
 */
const modelLoadWindow = 20;

/** What {@link Store.recentUsage} returns. */
export interface RecentUsage {
  /** Tokens generated by the replies in the window. */
  completionTokens: number;
  /** Prompt tokens of those replies. */
  promptTokens: number;
  /** How many replies (assistant messages with stats) ended in the window. */
  replies: number;
  /** The span the window's use covers, in hours (at least 1; see {@link Store.recentUsage}). */
  hours: number;
  /** `completionTokens` ÷ `hours`. */
  tokensPerHour: number;
}

/** One hour, in ms. */
const hourMs = 3_600_000;

/** The middle value of `values` (mean of the two middle ones for an even count); null for none. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * `samples` made storable: `at` truncated to a whole ms, samples with a non-finite or negative `at`
 * or `powerW`, a non-string source or a non-boolean `measured` dropped; then at most one per epoch
 * second, the latest (ties: the later in the array).
 */
function downsample(samples: readonly PowerSample[]): PowerSample[] {
  const bySecond = new Map<number, PowerSample>();
  for (const s of samples) {
    if (typeof s !== 'object' || s === null) continue;
    const at = typeof s.at === 'number' && Number.isFinite(s.at) ? Math.trunc(s.at) : -1;
    const ok =
      at >= 0 &&
      typeof s.powerW === 'number' &&
      Number.isFinite(s.powerW) &&
      s.powerW >= 0 &&
      typeof s.sourceId === 'string' &&
      typeof s.sourceLabel === 'string' &&
      typeof s.measured === 'boolean';
    if (!ok) continue;
    const second = Math.floor(at / 1000);
    const kept = bySecond.get(second);
    if (kept === undefined || at >= kept.at) {
      bySecond.set(second, { at, powerW: s.powerW, sourceId: s.sourceId, sourceLabel: s.sourceLabel, measured: s.measured });
    }
  }
  return [...bySecond.values()].sort((a, b) => a.at - b.at);
}

/** One line describing zod issues: `path: message; ...`. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Summary columns of conversation `c`, with the aggregates over its messages. */
const summaryColumns = `
  c.id AS id, c.title AS title, c.system_prompt AS systemPrompt, c.model_path AS modelPath,
  c.pinned_model_path AS pinnedModelPath, c.preset_id AS presetId, c.overrides_json AS overridesJson,
  c.created_at AS createdAt, c.updated_at AS updatedAt,
  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.hidden = 0) AS messageCount,
  (SELECT coalesce(sum(m.prompt_tokens), 0) FROM messages m
    WHERE m.conversation_id = c.id AND m.role = 'assistant') AS promptTokens,
  (SELECT coalesce(sum(m.completion_tokens), 0) FROM messages m
    WHERE m.conversation_id = c.id AND m.role = 'assistant') AS completionTokens,
  (SELECT coalesce(sum(m.energy_j), 0) FROM messages m
    WHERE m.conversation_id = c.id AND m.role = 'assistant') AS energyJ`;

const messageColumns = `id, conversation_id, role, content, status, created_at, error,
  stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens,
  completion_tokens, ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads,
  context_size, started_at, ended_at, energy_j, energy_j_per_token, avg_power_w, peak_power_w,
  baseline_power_w, energy_source_id, energy_source_label, energy_measured, energy_method,
  energy_fallback_reason, energy_sample_count, governor_profile, governor_reason,
  re_evaluated_tokens, alternative_group, hidden`;

/** Whether the disk holding `filePath` has less than 8 MiB free (how an I/O error is told to be ENOSPC). */
function diskAlmostFull(filePath: string): boolean {
  const s = statfsSync(dirname(filePath));
  return Number(s.bavail) * Number(s.bsize) < 8 * 1024 * 1024;
}

/** Every statement the store runs, prepared once (after the migrations). */
function prepareStatements(db: Database.Database) {
  const statsSet = `stats_model_path = @stats_model_path, stats_model_name = @stats_model_name,
    stats_quantization = @stats_quantization, prompt_tokens = @prompt_tokens, prefill_tokens = @prefill_tokens,
    completion_tokens = @completion_tokens, ttft_ms = @ttft_ms, prefill_tokens_per_second = @prefill_tokens_per_second,
    decode_tokens_per_second = @decode_tokens_per_second, threads = @threads, context_size = @context_size,
    started_at = @started_at, ended_at = @ended_at, re_evaluated_tokens = @re_evaluated_tokens`;
  const energySet = `energy_j = @energy_j, energy_j_per_token = @energy_j_per_token, avg_power_w = @avg_power_w,
    peak_power_w = @peak_power_w, baseline_power_w = @baseline_power_w, energy_source_id = @energy_source_id,
    energy_source_label = @energy_source_label, energy_measured = @energy_measured, energy_method = @energy_method,
    energy_fallback_reason = @energy_fallback_reason, energy_sample_count = @energy_sample_count`;
  return {
    insertConversation: db.prepare<[string, string, string, string | null, string | null, number, number, number]>(
      `INSERT INTO conversations (id, title, system_prompt, model_path, pinned_model_path, created_at, updated_at, title_is_auto)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertApiConversation: db.prepare<[{ id: string; title: string; at: number; day: string }]>(
      `INSERT INTO conversations (id, title, system_prompt, model_path, pinned_model_path, created_at, updated_at, title_is_auto, source, api_day)
       VALUES (@id, @title, '', NULL, NULL, @at, @at, 0, 'api', @day)
       ON CONFLICT (api_day) WHERE api_day IS NOT NULL DO NOTHING`,
    ),
    apiConversationOfDay: db.prepare<[string], SummaryRow>(
      `SELECT ${summaryColumns}, NULL AS snippet FROM conversations c WHERE c.api_day = ?`,
    ),
    pinConversationModel: db.prepare<[string | null, string]>('UPDATE conversations SET pinned_model_path = ? WHERE id = ?'),
    listConversations: db.prepare<[], SummaryRow>(
      `SELECT ${summaryColumns}, NULL AS snippet FROM conversations c
        WHERE c.source = 'app'
        ORDER BY c.updated_at DESC, c.seq DESC`,
    ),
    getSummary: db.prepare<[string], SummaryRow>(`SELECT ${summaryColumns}, NULL AS snippet FROM conversations c WHERE c.id = ?`),
    search: db.prepare<{ q: string }, SummaryRow>(
      `WITH hits AS (
         SELECT m.conversation_id AS cid, bm25(messages_fts) AS score,
                snippet(messages_fts, 0, '[', ']', '…', 12) AS snip
           FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
          WHERE messages_fts MATCH @q
         UNION ALL
         SELECT c.id AS cid, bm25(conversations_fts) AS score,
                snippet(conversations_fts, 0, '[', ']', '…', 12) AS snip
           FROM conversations_fts JOIN conversations c ON c.seq = conversations_fts.rowid
          WHERE conversations_fts MATCH @q
       ), best AS (
         SELECT cid, min(score) AS score, snip FROM hits GROUP BY cid
       )
       SELECT ${summaryColumns}, best.snip AS snippet
         FROM best JOIN conversations c ON c.id = best.cid
        WHERE c.source = 'app'
        ORDER BY best.score, c.updated_at DESC, c.seq DESC`,
    ),
    conversationTitleState: db.prepare<[string], { title_is_auto: number }>(
      'SELECT title_is_auto FROM conversations WHERE id = ?',
    ),
    renameConversation: db.prepare<[string, string]>('UPDATE conversations SET title = ?, title_is_auto = 0 WHERE id = ?'),
    setAutoTitle: db.prepare<{ title: string; id: string }>(
      'UPDATE conversations SET title = @title WHERE id = @id AND title_is_auto = 1 AND title <> @title',
    ),
    touchConversation: db.prepare<[number, string]>('UPDATE conversations SET updated_at = ? WHERE id = ?'),
    setConversationModel: db.prepare<[string, string]>('UPDATE conversations SET model_path = ? WHERE id = ?'),
    deleteConversation: db.prepare<[string]>('DELETE FROM conversations WHERE id = ?'),
    firstUserMessage: db.prepare<[string], { id: string }>(
      `SELECT id FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY seq LIMIT 1`,
    ),
    insertMessage: db.prepare<[StatsParams & { id: string; conversation_id: string; role: string; content: string; status: string; created_at: number; error: string | null; alternative_group: string | null }], MessageRow>(
      `INSERT INTO messages (id, conversation_id, role, content, status, created_at, error,
         stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens, completion_tokens,
         ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads, context_size, started_at, ended_at,
         re_evaluated_tokens, alternative_group, writer_pid, writer_started_at, heartbeat_at)
       VALUES (@id, @conversation_id, @role, @content, @status, @created_at, @error,
         @stats_model_path, @stats_model_name, @stats_quantization, @prompt_tokens, @prefill_tokens, @completion_tokens,
         @ttft_ms, @prefill_tokens_per_second, @decode_tokens_per_second, @threads, @context_size, @started_at, @ended_at,
         @re_evaluated_tokens, @alternative_group,
         CASE WHEN @status = 'streaming' THEN ${process.pid} ELSE NULL END,
         CASE WHEN @status = 'streaming' THEN ${PROCESS_STARTED_AT} ELSE NULL END,
         CASE WHEN @status = 'streaming' THEN @created_at ELSE NULL END)
       RETURNING ${messageColumns}`,
    ),
    updateMessageContent: db.prepare<[string, number, string]>('UPDATE messages SET content = ?, heartbeat_at = ? WHERE id = ?'),
    heartbeat: db.prepare<[number, string]>(`UPDATE messages SET heartbeat_at = ? WHERE id = ? AND status = 'streaming'`),
    failStreamingMessage: db.prepare<[string, string]>(`UPDATE messages SET status = 'error', error = ? WHERE id = ? AND status = 'streaming'`),
    finishMessage: db.prepare<
      [StatsParams & EnergyParams & { id: string; content: string; status: string; error: string | null; governor_profile: string | null; governor_reason: string | null }],
      MessageRow
    >(
      `UPDATE messages SET content = @content, status = @status, error = @error, ${statsSet}, ${energySet},
         governor_profile = @governor_profile, governor_reason = @governor_reason
        WHERE id = @id RETURNING ${messageColumns}`,
    ),
    messageGovernor: db.prepare<[string], { governor_profile: string | null; governor_reason: string | null }>(
      'SELECT governor_profile, governor_reason FROM messages WHERE id = ?',
    ),
    updateUserMessage: db.prepare<[string, string], MessageRow>(
      `UPDATE messages SET content = ? WHERE id = ? AND role = 'user' RETURNING ${messageColumns}`,
    ),
    getMessage: db.prepare<[string], MessageRow>(`SELECT ${messageColumns} FROM messages WHERE id = ?`),
    listMessages: db.prepare<[string], MessageRow>(`SELECT ${messageColumns} FROM messages WHERE conversation_id = ? ORDER BY seq`),
    listVersions: db.prepare<[string], MessageRow>(`SELECT ${messageColumns} FROM messages WHERE alternative_group = ? ORDER BY seq`),
    messagePosition: db.prepare<[string], { seq: number; conversation_id: string }>(
      'SELECT seq, conversation_id FROM messages WHERE id = ?',
    ),
    deleteFrom: db.prepare<[string, number]>('DELETE FROM messages WHERE conversation_id = ? AND seq >= ?'),
    allSettings: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings'),
    putSetting: db.prepare<[string, string]>(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getCalibration: db.prepare<[string, string], CalibrationRow>(
      `SELECT model_path, model_size_bytes, best_threads, trials_json, measured_at
         FROM thread_calibrations WHERE model_path = ? AND machine_key = ?`,
    ),
    putCalibration: db.prepare<[string, string, number, number, string, number]>(
      `INSERT INTO thread_calibrations (model_path, machine_key, model_size_bytes, best_threads, trials_json, measured_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (model_path, machine_key) DO UPDATE SET
         model_size_bytes = excluded.model_size_bytes, best_threads = excluded.best_threads,
         trials_json = excluded.trials_json, measured_at = excluded.measured_at`,
    ),
    listCalibrations: db.prepare<[string], CalibrationRow>(
      `SELECT model_path, model_size_bytes, best_threads, trials_json, measured_at
         FROM thread_calibrations WHERE machine_key = ? ORDER BY model_path`,
    ),

    // Energy
    conversationExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM conversations WHERE id = ?'),
    messageInConversation: db.prepare<[string, string], { one: number }>(
      'SELECT 1 AS one FROM messages WHERE id = ? AND conversation_id = ?',
    ),
    upsertSample: db.prepare<[{ conversation_id: string; message_id: string | null; at: number; power_w: number; source_id: string; source_label: string; measured: number }]>(
      `INSERT INTO power_samples (conversation_id, message_id, at, power_w, source_id, source_label, measured)
       VALUES (@conversation_id, @message_id, @at, @power_w, @source_id, @source_label, @measured)
       ON CONFLICT (conversation_id, at / 1000) DO UPDATE SET
         message_id = excluded.message_id, at = excluded.at, power_w = excluded.power_w,
         source_id = excluded.source_id, source_label = excluded.source_label, measured = excluded.measured
       WHERE excluded.at >= power_samples.at`,
    ),
    energyByConversation: db.prepare<
      [],
      {
        id: string;
        title: string;
        source: ConversationSource;
        updatedAt: number;
        energyJ: number;
        promptTokens: number;
        completionTokens: number;
        replies: number;
        withEnergy: number;
        measuredCount: number;
      }
    >(
      `SELECT c.id AS id, c.title AS title, c.source AS source, c.updated_at AS updatedAt,
              coalesce(sum(m.energy_j), 0) AS energyJ,
              coalesce(sum(m.prompt_tokens), 0) AS promptTokens,
              coalesce(sum(m.completion_tokens), 0) AS completionTokens,
              count(*) AS replies,
              count(m.energy_j) AS withEnergy,
              coalesce(sum(m.energy_j IS NOT NULL AND m.energy_measured = 1), 0) AS measuredCount
         FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.role = 'assistant'
        GROUP BY c.seq
        ORDER BY c.updated_at DESC, c.seq DESC`,
    ),
    modelsByConversation: db.prepare<[], { conversationId: string; modelName: string }>(
      `SELECT conversation_id AS conversationId, stats_model_name AS modelName
         FROM messages
        WHERE role = 'assistant' AND stats_model_path IS NOT NULL AND coalesce(stats_model_name, '') <> ''
        GROUP BY conversation_id, stats_model_name
        ORDER BY conversation_id, count(*) DESC, max(seq) DESC`,
    ),
    repliesEndedBetween: db.prepare<
      [number, number],
      { endedAt: number; startedAt: number; modelName: string; energyJ: number | null; promptTokens: number; completionTokens: number }
    >(
      `SELECT ended_at AS endedAt, coalesce(started_at, ended_at) AS startedAt,
              CASE WHEN coalesce(stats_model_name, '') = '' THEN stats_model_path ELSE stats_model_name END AS modelName,
              energy_j AS energyJ, coalesce(prompt_tokens, 0) AS promptTokens, coalesce(completion_tokens, 0) AS completionTokens
         FROM messages
        WHERE stats_model_path IS NOT NULL AND role = 'assistant' AND ended_at >= ? AND ended_at < ?
        ORDER BY ended_at, seq`,
    ),
    traceSamples: db.prepare<[string], { at: number; powerW: number; sourceId: string; sourceLabel: string; measured: number }>(
      `SELECT at, power_w AS powerW, source_id AS sourceId, source_label AS sourceLabel, measured
         FROM power_samples WHERE conversation_id = ? ORDER BY at, seq`,
    ),
    traceReplies: db.prepare<[string], { messageId: string; startedAt: number; endedAt: number; energyJ: number; modelName: string }>(
      `SELECT id AS messageId, coalesce(started_at, 0) AS startedAt, coalesce(ended_at, 0) AS endedAt,
              coalesce(energy_j, 0) AS energyJ, coalesce(stats_model_name, '') AS modelName
         FROM messages
        WHERE conversation_id = ? AND role = 'assistant' AND stats_model_path IS NOT NULL
        ORDER BY seq`,
    ),
    conversationTitle: db.prepare<[string], { title: string }>('SELECT title FROM conversations WHERE id = ?'),
    exportMessages: db.prepare<[{ cid: string | null }], MessageRow & { conversation_title: string; conversation_source: ConversationSource }>(
      `SELECT ${messageColumns.split(',').map((c) => `m.${c.trim()}`).join(', ')}, c.title AS conversation_title,
              c.source AS conversation_source
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE @cid IS NULL OR m.conversation_id = @cid
        ORDER BY c.seq, m.seq`,
    ),
    exportSamples: db.prepare<
      [{ cid: string | null }],
      { at: number; conversationId: string; messageId: string | null; powerW: number; sourceId: string; sourceLabel: string; measured: number }
    >(
      `SELECT p.at AS at, p.conversation_id AS conversationId, p.message_id AS messageId, p.power_w AS powerW,
              p.source_id AS sourceId, p.source_label AS sourceLabel, p.measured AS measured
         FROM power_samples p JOIN conversations c ON c.id = p.conversation_id
        WHERE @cid IS NULL OR p.conversation_id = @cid
        ORDER BY c.seq, p.at, p.seq`,
    ),

    // Governor measurements
    insertModelLoad: db.prepare<[string, number, string, number, number | null, number]>(
      `INSERT INTO model_loads (model_path, model_size_bytes, machine_key, load_ms, load_energy_j, at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    recentModelLoads: db.prepare<[string, string, number], { modelSizeBytes: number; loadMs: number; loadEnergyJ: number | null }>(
      `SELECT model_size_bytes AS modelSizeBytes, load_ms AS loadMs, load_energy_j AS loadEnergyJ
         FROM model_loads WHERE machine_key = ? AND model_path = ?
        ORDER BY at DESC, seq DESC LIMIT ?`,
    ),
    getMachineFact: db.prepare<[string, string], { value_json: string; measured_at: number }>(
      'SELECT value_json, measured_at FROM machine_facts WHERE machine_key = ? AND key = ?',
    ),
    putMachineFact: db.prepare<[string, string, string, number]>(
      `INSERT INTO machine_facts (machine_key, key, value_json, measured_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (machine_key, key) DO UPDATE SET value_json = excluded.value_json, measured_at = excluded.measured_at`,
    ),
    performanceReplies: db.prepare<
      [number],
      {
        modelPath: string;
        modelName: string | null;
        decode: number | null;
        prefill: number | null;
        prefillTokens: number | null;
        energyJ: number | null;
        energyJPerToken: number | null;
        avgPowerW: number | null;
        measured: number | null;
        threads: number | null;
        endedAt: number | null;
      }
    >(
      `SELECT stats_model_path AS modelPath, stats_model_name AS modelName, decode_tokens_per_second AS decode,
              prefill_tokens_per_second AS prefill, prefill_tokens AS prefillTokens, energy_j AS energyJ,
              energy_j_per_token AS energyJPerToken, avg_power_w AS avgPowerW, energy_measured AS measured,
              threads, ended_at AS endedAt
         FROM messages
        WHERE role = 'assistant' AND stats_model_path IS NOT NULL AND status IN ('complete', 'stopped')
          AND completion_tokens >= ?
        ORDER BY seq`,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Writers of streaming replies
// ---------------------------------------------------------------------------------------------

/** When this process started, ms since the epoch (identifies it beside its pid, which the OS reuses). */
export const PROCESS_STARTED_AT = Math.round(Date.now() - process.uptime() * 1000);

/**
 * A writer that has not touched its streaming reply for this long is gone even if a process with its
 * pid runs (pids are reused): 10 min. Writers heartbeat every few seconds
 * (`Backend`'s {@link import('../core/backend.js').heartbeatIntervalMs}).
 */
export const WRITER_STALE_MS = 10 * 60_000;

/**
 * Streaming replies being written through an open {@link Store} of this process, by message id: a row of
 * this process counts as alive only while its handle has it here (a handle closed without finishing
 * leaves its replies to be recovered, as a crash does).
 */
const liveReplies = new Set<string>();

/** Whether a process with this id runs on this machine (`kill(pid, 0)`: ESRCH = no; EPERM = yes, not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks `interrupted` the `streaming` replies whose writer is gone: no writer recorded (written before
 * schema 7), a writer process that no longer runs, or no heartbeat for {@link WRITER_STALE_MS}. A reply
 * another live process is writing (the app and the CLI on one data folder) stays `streaming`.
 * @returns how many were marked.
 */
function markOrphanedReplies(db: Database.Database, now: () => number, alive: (pid: number) => boolean): number {
  const rows = db
    .prepare(`SELECT id, writer_pid AS pid, writer_started_at AS startedAt, heartbeat_at AS heartbeat FROM messages WHERE status = 'streaming'`)
    .all() as Array<{ id: string; pid: number | null; startedAt: number | null; heartbeat: number | null }>;
  const mark = db.prepare(`UPDATE messages SET status = 'interrupted' WHERE id = ? AND status = 'streaming'`);
  let marked = 0;
  const t = now();
  for (const r of rows) {
    const ours = r.pid === process.pid && r.startedAt === PROCESS_STARTED_AT;
    const gone = r.pid === null || r.heartbeat === null || (ours ? !liveReplies.has(r.id) : !alive(r.pid)) || t - r.heartbeat > WRITER_STALE_MS;
    if (gone) marked += mark.run(r.id).changes;
  }
  return marked;
}

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

/**
 * The SQLite store. Open with {@link Store.open}; one instance per database file per process; all
 * calls are synchronous. Timestamps are ms since the epoch from the `now` option.
 */
export class Store implements CalibrationStore {
  /** Absolute path of the database file. */
  readonly filePath: string;
  /** How many messages were still `streaming` when the store was opened (replies cut by a crash) and are now `interrupted`. */
  readonly recoveredInterruptedCount: number;

  private readonly db: Database.Database;
  private readonly machineKey: string;
  private readonly now: () => number;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly txAddMessage: Database.Transaction<(input: AddMessageInput) => Message>;
  private readonly txFinishMessage: Database.Transaction<(id: string, input: FinishMessageInput) => Message>;
  private readonly txUpdateUserMessage: Database.Transaction<(id: string, content: string) => Message>;
  private readonly txDeleteMessagesAfter: Database.Transaction<(messageId: string, inclusive: boolean) => number>;
  private readonly txUpdateSettings: Database.Transaction<(entries: [string, unknown][]) => void>;
  private readonly txAddPowerSamples: Database.Transaction<(conversationId: string, messageId: string | null, samples: PowerSample[]) => void>;
  private readonly txApiConversation: Database.Transaction<(day: string, at: number) => SummaryRow>;
  /** The calibration bench's results on this machine (table `model_calibrations`). */
  readonly calibrations: CalibrationTable;
  /** Streaming replies this handle writes (see `liveReplies`). */
  private readonly writing = new Set<string>();
  /** Cached model-file facts (header info, memory estimates), valid while the file is unchanged. */
  readonly modelFacts: ModelFactsTable;
  /** Versions of a reply (Regenerate, "Try with…"): see ./alternatives.ts. */
  readonly alternatives: AlternativesTable;
  /** The user's presets and each conversation's preset and overrides (table `presets`, migration 009). */
  readonly presets: PresetsTable;
  /** Export and import of whole conversations (electron/store/archive.ts). */
  readonly archive: ArchiveTable;

  /**
   * Opens (creating it and its folders if needed) the database at `options.filePath`, sets the
   * pragmas (WAL, `synchronous=FULL`, foreign keys, 5 s busy timeout), applies pending migrations,
   * and marks `interrupted` the messages left `streaming` whose writer is gone (its process no longer
   * runs or has not written for {@link WRITER_STALE_MS}; {@link recoveredInterruptedCount}): a reply
   * another live process is writing on the same data folder stays `streaming`.
   *
   * A database created by a newer Wattwise is refused before anything is written to it.
   *
   * @throws StoreError `STORAGE_FAILED` (not a SQLite file, corrupt, newer schema, cannot open,
   *   locked, read-only...) or `STORAGE_FULL` (no space to create or migrate it); the message names
   *   the file. A failure to load `nativeBinding` is rethrown as is.
   */
  static open(options: StoreOptions): Store {
    const filePath = resolve(options.filePath);
    const mapError = (e: unknown) => toStoreError(e, filePath, () => diskAlmostFull(filePath));
    try {
      mkdirSync(dirname(filePath), { recursive: true });
    } catch (e) {
      throw mapError(e);
    }
    let db: Database.Database;
    try {
      db = new Database(filePath, options.nativeBinding !== undefined ? { nativeBinding: options.nativeBinding } : {});
    } catch (e) {
      throw mapError(e);
    }
    try {
      db.pragma('busy_timeout = 5000');
      // Before anything writes (switching to WAL rewrites the header): a newer schema is refused untouched.
      assertKnownSchemaVersion(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.max(1, Math.trunc(options.maxPageCount))}`);
      const recovered = markOrphanedReplies(db, options.now ?? Date.now, options.isProcessAlive ?? isProcessAlive);
      return new Store(db, filePath, options.machineKey ?? 'default', options.now ?? Date.now, recovered);
    } catch (e) {
      try {
        db.close();
      } catch {
        // already failing: keep the first error
      }
      throw mapError(e);
    }
  }

  /**
   * Opens the database at `options.filePath` for reading only: nothing is created, migrated, marked or
   * written, so `history` works on a data folder it may not write (a read-only mount, a backup, another
   * user's files). A WAL database needs its `-shm` index beside it; where that folder cannot be written
   * (SQLite then cannot open it at all, see https://sqlite.org/wal.html#readonly) the file (and its `-wal`,
   * if a crash left one) is copied to a temporary folder and the copy is read: a snapshot, removed on
   * {@link close}. Write methods on the returned store throw `STORAGE_FAILED`.
   *
   * @returns `{ kind: 'missing' }` when there is no database file, `{ kind: 'outdated' }` when its schema
   *   is older than this build's (open it with {@link Store.open} to migrate), else the open store.
   * @throws StoreError `STORAGE_FAILED` (not a SQLite file, corrupt, newer schema, no permission to read).
   */
  static openForReading(options: Pick<StoreOptions, 'filePath' | 'nativeBinding' | 'machineKey' | 'now'>): ReadOnlyOpenResult {
    const filePath = resolve(options.filePath);
    if (!existsSync(filePath)) return { kind: 'missing' };
    const mapError = (e: unknown) => toStoreError(e, filePath, () => false);
    const openAt = (path: string): Database.Database => {
      const db = new Database(path, { readonly: true, fileMustExist: true, ...(options.nativeBinding !== undefined ? { nativeBinding: options.nativeBinding } : {}) });
      try {
        db.pragma('busy_timeout = 5000');
        schemaVersion(db); // the first read opens the file for real (and fails here on a read-only folder)
        return db;
      } catch (e) {
        db.close();
        throw e;
      }
    };
    let db: Database.Database;
    let snapshotDir: string | null = null;
    try {
      try {
        db = openAt(filePath);
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'SQLITE_CANTOPEN') throw e;
        snapshotDir = mkdtempSync(join(tmpdir(), 'wattwise-read-'));
        const copy = join(snapshotDir, 'wattwise.db');
        copyFileSync(filePath, copy);
        if (existsSync(`${filePath}-wal`)) copyFileSync(`${filePath}-wal`, `${copy}-wal`);
        db = openAt(copy);
      }
    } catch (e) {
      if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
      throw mapError(e);
    }
    try {
      assertKnownSchemaVersion(db);
      const version = schemaVersion(db);
      if (version < latestSchemaVersion) {
        db.close();
        if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
        return { kind: 'outdated', schemaVersion: version };
      }
      const store = new Store(db, filePath, options.machineKey ?? 'default', options.now ?? Date.now, 0);
      if (snapshotDir) {
        const dir = snapshotDir;
        store.afterClose = () => rmSync(dir, { recursive: true, force: true });
      }
      return { kind: 'open', store };
    } catch (e) {
      db.close();
      if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
      throw mapError(e);
    }
  }

  /** Removes a read-only snapshot ({@link openForReading}) once the handle closes. */
  private afterClose: (() => void) | null = null;

  private constructor(db: Database.Database, filePath: string, machineKey: string, now: () => number, recovered: number) {
    this.db = db;
    this.filePath = filePath;
    this.machineKey = machineKey;
    this.now = now;
    this.recoveredInterruptedCount = recovered;

    this.stmt = prepareStatements(db);
    this.calibrations = new CalibrationTable(db, machineKey, (fn) => this.wrap(fn));
    this.modelFacts = new ModelFactsTable(db, () => this.timestamp());
    this.presets = new PresetsTable(db, () => this.timestamp(), (fn) => this.wrap(fn));
    this.archive = new ArchiveTable(db, () => this.timestamp(), (fn) => this.wrap(fn));
    this.alternatives = new AlternativesTable(db, (fn) => this.wrap(fn));

    this.txAddMessage = db.transaction(
      (input: AddMessageInput): Message => {
        const conversation = this.stmt.conversationTitleState.get(input.conversationId);
        if (conversation === undefined) throw new StoreError('NOT_FOUND', `conversation ${input.conversationId} not found`);
        const namesTitle =
          input.role === 'user' && conversation.title_is_auto === 1 && this.stmt.firstUserMessage.get(input.conversationId) === undefined;
        const at = this.timestamp();
        const row = this.stmt.insertMessage.get({
          id: randomUUID(),
          conversation_id: input.conversationId,
          role: input.role,
          content: input.content,
          status: input.status,
          created_at: at,
          error: input.error ?? null,
          alternative_group: input.alternativeGroup ?? null,
          ...statsParams(input.stats),
        });
        if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
        if (namesTitle) this.stmt.setAutoTitle.run({ title: deriveTitle(input.content), id: input.conversationId });
        this.stmt.touchConversation.run(at, input.conversationId);
        return toMessage(row);
      },
    );

    this.txFinishMessage = db.transaction(
      (id: string, input: FinishMessageInput): Message => {
        const row = this.stmt.finishMessage.get({
          id,
          content: input.content,
          status: input.status,
          error: input.error,
          ...statsParams(input.stats),
          ...energyParams(input.energy ?? null),
          governor_profile: input.governor?.profile ?? null,
          governor_reason: input.governor?.reason ?? null,
        });
        if (row === undefined) throw new StoreError('NOT_FOUND', `message ${id} not found`);
        this.stmt.touchConversation.run(this.timestamp(), row.conversation_id);
        return this.withVersions(row);
      },
    );

    this.txUpdateUserMessage = db.transaction((id: string, content: string): Message => {
      const row = this.stmt.updateUserMessage.get(content, id);
      if (row === undefined) throw new StoreError('NOT_FOUND', `user message ${id} not found`);
      const conversationId = row.conversation_id;
      if (this.stmt.firstUserMessage.get(conversationId)?.id === id) {
        // Still an automatic title: it follows the (edited) first user message.
        this.stmt.setAutoTitle.run({ title: deriveTitle(content), id: conversationId });
      }
      this.stmt.touchConversation.run(this.timestamp(), conversationId);
      return toMessage(row);
    });

    this.txDeleteMessagesAfter = db.transaction((messageId: string, inclusive: boolean): number => {
      const pos = this.stmt.messagePosition.get(messageId);
      if (pos === undefined) return 0;
      return this.stmt.deleteFrom.run(pos.conversation_id, inclusive ? pos.seq : pos.seq + 1).changes;
    });

    this.txUpdateSettings = db.transaction((entries: [string, unknown][]) => {
      for (const [key, value] of entries) this.stmt.putSetting.run(key, JSON.stringify(value));
    });

    this.txApiConversation = db.transaction((day: string, at: number): SummaryRow => {
      this.stmt.insertApiConversation.run({ id: randomUUID(), title: apiConversationTitle(day), at, day });
      const row = this.stmt.apiConversationOfDay.get(day);
      if (row === undefined) throw new Error(`the API conversation of ${day} was neither found nor created`);
      return row;
    });

    this.txAddPowerSamples = db.transaction((conversationId: string, messageId: string | null, samples: PowerSample[]) => {
      if (this.stmt.conversationExists.get(conversationId) === undefined) return;
      const attributed = messageId !== null && this.stmt.messageInConversation.get(messageId, conversationId) !== undefined ? messageId : null;
      for (const s of samples) {
        this.stmt.upsertSample.run({
          conversation_id: conversationId,
          message_id: attributed,
          at: s.at,
          power_w: s.powerW,
          source_id: s.sourceId,
          source_label: s.sourceLabel,
          measured: s.measured ? 1 : 0,
        });
      }
    });
  }

  /** Closes the database (checkpointing the WAL). Idempotent; the store cannot be used afterwards. */
  close(): void {
    if (!this.db.open) return;
    // Replies left streaming by this handle are orphans now, as after a crash.
    for (const id of this.writing) liveReplies.delete(id);
    this.writing.clear();
    try {
      this.wrap(() => this.db.close());
    } finally {
      this.afterClose?.();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Conversations
  // -------------------------------------------------------------------------------------------

  /**
   * Creates an empty conversation. Without `title` (or with a blank one) it is titled
   * {@link defaultConversationTitle} automatically, and its first user message will name it; a given
   * title counts as chosen by the user. `createdAt` = `updatedAt` = now. `pinnedModelPath` (default
   * null: the power governor chooses) pins a model for the conversation. `presetId` (default null =
   * Default) and `overrides` (default none) are its preset (see {@link PresetsTable.assign}), written in the
   * same transaction.
   */
  createConversation(input: {
    systemPrompt: string;
    modelPath: string | null;
    pinnedModelPath?: string | null;
    title?: string;
    presetId?: string | null;
    overrides?: PresetOverrides | null;
  }): ConversationSummary {
    const chosen = input.title?.trim() ?? '';
    const title = chosen === '' ? defaultConversationTitle : chosen;
    const at = this.timestamp();
    const id = randomUUID();
    const pinned = input.pinnedModelPath ?? null;
    const presetId = input.presetId ?? null;
    const overrides = input.overrides && Object.keys(input.overrides).length > 0 ? input.overrides : null;
    this.wrap(() =>
      this.db.transaction(() => {
        this.stmt.insertConversation.run(id, title, input.systemPrompt, input.modelPath, pinned, at, at, chosen === '' ? 1 : 0);
        if (presetId !== null || overrides !== null) this.presets.assign(id, presetId, overrides);
      })(),
    );
    return {
      id,
      title,
      createdAt: at,
      updatedAt: at,
      systemPrompt: input.systemPrompt,
      modelPath: input.modelPath,
      pinnedModelPath: pinned,
      presetId,
      overrides,
      messageCount: 0,
      promptTokens: 0,
      energyJ: 0,
      completionTokens: 0,
      snippet: null,
    };
  }

  /**
   * Every chat conversation (source `app`; the API's conversations, {@link apiConversation}, are left
   * out: the chat sidebar never shows API traffic), most recently updated first (ties: most recently
   * created first), `snippet` null. `messageCount` counts all messages; `promptTokens` /
   * `completionTokens` sum the stats of the assistant messages.
   */
  listConversations(): ConversationSummary[] {
    return this.wrap(() => this.stmt.listConversations.all().map(toSummary));
  }

  /**
   * Full-text search over message text and conversation titles. The query is arbitrary user text
   * (see {@link toFtsQuery}): every term must occur (as a word prefix, case- and accent-insensitive)
   * in the same message or in the title. Conversations are ranked by their best bm25 match; `snippet`
   * is an excerpt of about 12 tokens of the best-matching message (or title) with each match in `[`
   * `]`, whitespace collapsed to single spaces. A blank query lists every conversation ({@link listConversations}); a query with no
   * searchable term (only punctuation or emoji) finds nothing. Never throws for the query's content.
   * Only chat conversations (source `app`) are searched: API conversations never match, even by their
   * messages' text.
   */
  searchConversations(query: string): ConversationSummary[] {
    if (query.trim() === '') return this.listConversations();
    const q = toFtsQuery(query);
    if (q === null) return [];
    return this.wrap(() => this.stmt.search.all({ q }).map(toSummary));
  }

  /**
   * The conversation of the local API's requests on the local calendar day of `now` (this process's
   * time zone): one per day, source `api`, titled {@link apiConversationTitle} (`API requests ·
   * YYYY-MM-DD`), created with an empty system prompt, no model (`modelPath` and `pinnedModelPath`
   * null) and `createdAt` = `updatedAt` = `now` when the day has none yet. Its title counts as chosen:
   * messages never rename it (a user may still rename it). It is left out of {@link listConversations}
   * and {@link searchConversations} but is a conversation like any other for {@link getConversation},
   * {@link addMessage}, {@link deleteConversation}, {@link energySummary} (source `api`) and the exports.
   *
   * Get-or-create is atomic across processes sharing the file: an IMMEDIATE transaction, and a UNIQUE
   * index on the day (schema 8) so two processes never create two conversations for one day. After the
   * day's conversation is deleted, the next call creates a new one.
   *
   * @param options.now ms since the epoch; default the store clock.
   * @returns its summary (`snippet` null; `messageCount`, tokens and `energyJ` over its messages so far).
   * @throws RangeError when `now` is negative or not finite.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED` when it cannot be read or written.
   */
  apiConversation(options: { now?: number } = {}): ConversationSummary {
    const now = options.now ?? this.timestamp();
    if (!Number.isFinite(now) || now < 0) throw new RangeError(`now must be a finite time >= 0 in ms (got ${String(now)})`);
    const at = Math.trunc(now);
    const day = localDay(at);
    return toSummary(this.wrap(() => this.txApiConversation.immediate(day, at)));
  }

  /** The conversation with all its messages, oldest first (insertion order), or null if there is none with this id. */
  getConversation(id: string): ConversationDetail | null {
    return this.wrap(() =>
      this.db.transaction(() => {
        const summary = this.stmt.getSummary.get(id);
        if (summary === undefined) return null;
        return { conversation: toSummary(summary), messages: withAlternatives(this.stmt.listMessages.all(id)) };
      })(),
    );
  }

  /**
   * Renames a conversation (trimmed) and marks the title as chosen by the user: later messages
   * never change it. Does not change `updatedAt`. Returns the updated summary, or null if there is
   * no such conversation.
   * @throws RangeError for a blank title.
   */
  renameConversation(id: string, title: string): ConversationSummary | null {
    const trimmed = title.trim();
    if (trimmed === '') throw new RangeError('a conversation title must not be blank');
    return this.wrap(() => {
      if (this.stmt.renameConversation.run(trimmed, id).changes === 0) return null;
      const row = this.stmt.getSummary.get(id);
      return row === undefined ? null : toSummary(row);
    });
  }

  /** Deletes a conversation with its messages (and their search entries). Returns false if there was none. */
  deleteConversation(id: string): boolean {
    return this.wrap(() => this.stmt.deleteConversation.run(id).changes > 0);
  }

  /**
   * Pins `modelPath` for the conversation (it then overrides the power governor), or unpins it with
   * null. Does not change `updatedAt`.
   * @throws StoreError `NOT_FOUND` if there is no such conversation.
   */
  pinConversationModel(id: string, modelPath: string | null): void {
    this.wrap(() => {
      if (this.stmt.pinConversationModel.run(modelPath, id).changes === 0) {
        throw new StoreError('NOT_FOUND', `conversation ${id} not found`);
      }
    });
  }

  /**
   * Records the model the conversation last used. Does not change `updatedAt`.
   * @throws StoreError `NOT_FOUND` if there is no such conversation.
   */
  setConversationModel(id: string, modelPath: string): void {
    this.wrap(() => {
      if (this.stmt.setConversationModel.run(modelPath, id).changes === 0) {
        throw new StoreError('NOT_FOUND', `conversation ${id} not found`);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------------

  /**
   * Appends a message (created now, after every earlier message of the conversation) and sets the
   * conversation's `updatedAt` to now. The first user message of a conversation whose title is
   * still automatic names it ({@link deriveTitle}).
   * @throws StoreError `NOT_FOUND` if there is no such conversation.
   */
  addMessage(input: {
    conversationId: string;
    role: 'system' | 'user' | 'assistant';
    content: string;
    status: MessageStatus;
    stats?: ReplyStats | null;
    error?: string | null;
    /** Adds the reply to this alternatives group (from {@link keepAsAlternative}). */
    alternativeGroup?: string | null;
  }): Message {
    const message = this.wrap(() => this.txAddMessage(input));
    if (message.status === 'streaming') {
      liveReplies.add(message.id);
      this.writing.add(message.id);
    }
    return message;
  }

  /**
   * Replaces a message's content (a partial flush while a reply streams): one UPDATE, which also
   * re-indexes the message for search. Nothing else changes.
   * @throws StoreError `NOT_FOUND` if there is no such message.
   */
  updateMessageContent(id: string, content: string): void {
    this.wrap(() => {
      if (this.stmt.updateMessageContent.run(content, this.timestamp(), id).changes === 0) {
        throw new StoreError('NOT_FOUND', `message ${id} not found`);
      }
    });
  }

  /**
   * Says this process is still writing the `streaming` message `id` (sets its heartbeat to now), so
   * another process opening the store leaves it alone. Cheap; call it every few seconds while a reply
   * runs (the partial-text writes heartbeat too).
   * @throws StoreError when it cannot be written.
   */
  heartbeat(id: string): void {
    this.wrap(() => this.stmt.heartbeat.run(this.timestamp(), id));
  }

  /**
   * Ends a still-`streaming` message as `error` with `error` as its reason, keeping its content as last
   * written: the smallest write that takes a reply out of `streaming` when its final write failed (a full
   * disk). @returns whether a streaming row was changed.
   * @throws StoreError when even this cannot be written.
   */
  failStreamingMessage(id: string, error: string): boolean {
    const changed = this.wrap(() => this.stmt.failStreamingMessage.run(error, id).changes > 0);
    this.stopWriting(id);
    return changed;
  }

  /** This handle no longer writes reply `id` (finished, failed). */
  private stopWriting(id: string): void {
    this.writing.delete(id);
    liveReplies.delete(id);
  }

  /**
   * Sets a message's final content, status, stats, error, energy and governor decision (replacing
   * all six: an omitted `energy` or `governor` is stored as none), and the conversation's
   * `updatedAt` to now. Returns the message (its `energy` as stored; `governor` as stored when its
   * profile is one this version knows, else null — {@link getMessageGovernor} returns the raw record).
   * @throws RangeError when `energy` fails `replyEnergySchema` (negative or non-finite numbers, an
   *   unknown method...) or `governor` is not two strings; nothing is written then (clamp or drop the
   *   energy and call again).
   * @throws StoreError `NOT_FOUND` if there is no such message.
   */
  finishMessage(
    id: string,
    input: {
      content: string;
      status: MessageStatus;
      stats: ReplyStats | null;
      error: string | null;
      energy?: ReplyEnergy | null;
      governor?: MessageGovernor | null;
    },
  ): Message {
    let energy: ReplyEnergy | null = null;
    if (input.energy !== undefined && input.energy !== null) {
      const checked = replyEnergySchema.safeParse(input.energy);
      if (!checked.success) throw new RangeError(`invalid reply energy: ${describeIssues(checked.error)}`, { cause: checked.error });
      energy = checked.data;
    }
    const governor = input.governor ?? null;
    if (governor !== null && (typeof governor.profile !== 'string' || typeof governor.reason !== 'string')) {
      throw new RangeError('invalid governor decision: profile and reason must be strings');
    }
    const message = this.wrap(() => this.txFinishMessage(id, { ...input, energy, governor }));
    this.stopWriting(id);
    return message;
  }

  /**
   * The governor decision recorded with a reply by {@link finishMessage}: `{ profile, reason }`, or
   * null when the message does not exist or none was recorded (every message written before schema
   * version 4, and replies the governor did not choose). Kept out of {@link Message} for now (the
   * contract does not carry it).
   */
  getMessageGovernor(id: string): MessageGovernor | null {
    const row = this.wrap(() => this.stmt.messageGovernor.get(id));
    if (row === undefined || row.governor_profile === null) return null;
    return { profile: row.governor_profile, reason: row.governor_reason ?? '' };
  }

  /**
   * Replaces the text of a user message (an edit; status, stats and position are kept) and sets the
   * conversation's `updatedAt` to now. When it is the first user message and the title is still
   * automatic, the title follows the new text. The caller drops the later messages
   * ({@link deleteMessagesAfter}).
   * @throws StoreError `NOT_FOUND` if there is no user message with this id.
   */
  updateUserMessage(id: string, content: string): Message {
    return this.wrap(() => this.txUpdateUserMessage(id, content));
  }

  /** The message (with its `alternatives` when it has some), or null if there is none with this id. */
  getMessage(id: string): Message | null {
    return this.wrap(() => {
      const row = this.stmt.getMessage.get(id);
      return row === undefined ? null : this.withVersions(row);
    });
  }

  /** The row as a message, with every version of its reply when it is in an alternatives group. */
  private withVersions(row: MessageRow): Message {
    const message = toMessage(row);
    if (row.alternative_group == null) return message;
    const versions = this.stmt.listVersions.all(row.alternative_group);
    return versions.length > 1 ? { ...message, alternatives: versions.map(toMessage) } : message;
  }

  /**
   * Deletes the messages of `messageId`'s conversation that come after it (in insertion order), and
   * the message itself when `inclusive`. Returns how many were deleted (0 if the message does not
   * exist). Does not change `updatedAt`.
   */
  deleteMessagesAfter(messageId: string, options: { inclusive: boolean }): number {
    return this.wrap(() => this.txDeleteMessagesAfter(messageId, options.inclusive));
  }

  // -------------------------------------------------------------------------------------------
  // Settings
  // -------------------------------------------------------------------------------------------

  /**
   * The settings: each stored key overrides `defaults`. A stored value that is not valid JSON or
   * fails its field's schema (`settingsSchema.shape[key]`), and unknown keys, are ignored.
   */
  getSettings(defaults: Settings): Settings {
    const rows = this.wrap(() => this.stmt.allSettings.all());
    const result: Record<string, unknown> = { ...defaults };
    const shape = settingsSchema.shape as Record<string, z.ZodType>;
    for (const { key, value } of rows) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        continue;
      }
      const checked = shape[key]!.safeParse(parsed);
      if (checked.success) result[key] = checked.data;
    }
    return result as Settings;
  }

  /**
   * Validates `patch` (`settingsSchema.partial().strict()`: unknown keys are rejected too), stores
   * each key that is not `undefined` (all or nothing), and returns the merged settings
   * ({@link getSettings}).
   * @throws InvalidSettingsError naming each bad field, e.g. `invalid settings: contextSize: Too small: expected number to be >=128`.
   */
  updateSettings(patch: Partial<Settings>, defaults: Settings): Settings {
    const checked = settingsSchema.partial().strict().safeParse(patch);
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => ({ path: i.path, message: i.message }));
      const text = issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
      throw new InvalidSettingsError(`invalid settings: ${text}`, issues, { cause: checked.error });
    }
    const entries = Object.entries(checked.data).filter(([, v]) => v !== undefined);
    this.wrap(() => this.txUpdateSettings(entries));
    return this.getSettings(defaults);
  }

  // -------------------------------------------------------------------------------------------
  // Import and backup (the logic lives in ./archive.ts and ./backup.ts)
  // -------------------------------------------------------------------------------------------

  /**
   * Imports an archive (`shared/archive.ts`): see `ArchiveTable.importConversations`.
   * @throws ArchiveImportError for an archive that fails validation (nothing written); StoreError for storage failures.
   */
  importConversations(archive: unknown): ImportResult {
    return this.archive.importConversations(archive);
  }

  /**
   * Backs the database up into `destPath` with SQLite's online backup while it stays in use (see
   * `backupDatabaseTo`). @returns the backup's size, bytes.
   * @throws StoreError `STORAGE_FULL` / `STORAGE_FAILED` (the partial file is removed); BackupCheckError when the copy fails its check.
   */
  async backupDatabase(destPath: string): Promise<number> {
    try {
      return await backupDatabaseTo(this.db, destPath);
    } catch (e) {
      throw toStoreError(e, destPath, () => diskAlmostFull(destPath));
    }
  }

  /**
   * Checks that the database file at `path` could replace this one (quick_check, schema version, tables), through
   * this connection. @throws BackupCheckError saying why not.
   */
  checkDatabaseFile(path: string): void {
    checkDatabaseFileWith(this.db, path);
  }

  // -------------------------------------------------------------------------------------------
  // Thread calibrations (this machine's)
  // -------------------------------------------------------------------------------------------

  /**
   * The calibration measured on this machine (`machineKey`) for `modelPath`, or null if there is
   * none, if the file's size changed since (`modelSizeBytes` differs), or if the stored row is
   * unreadable.
   */
  getThreadCalibration(modelPath: string, modelSizeBytes: number): ThreadCalibration | null {
    const row = this.wrap(() => this.stmt.getCalibration.get(modelPath, this.machineKey));
    if (row === undefined || row.model_size_bytes !== modelSizeBytes) return null;
    return toCalibration(row);
  }

  /** Saves a calibration for this machine, replacing the one for the same model path. */
  saveThreadCalibration(c: ThreadCalibration): void {
    this.wrap(() =>
      this.stmt.putCalibration.run(c.modelPath, this.machineKey, c.modelSizeBytes, c.bestThreads, JSON.stringify(c.trials), c.measuredAt),
    );
  }

  /** Every calibration measured on this machine, by model path (unreadable rows skipped). */
  listThreadCalibrations(): ThreadCalibration[] {
    const rows = this.wrap(() => this.stmt.listCalibrations.all(this.machineKey));
    return rows.map(toCalibration).filter((c): c is ThreadCalibration => c !== null);
  }

  // -------------------------------------------------------------------------------------------
  // Energy
  // -------------------------------------------------------------------------------------------

  /**
   * Stores power samples of a conversation (the trace of the Energy view), attributed to
   * `messageId` (the reply they were taken during; null between replies), in ONE transaction: call
   * it once per reply with the whole batch, not once per sample.
   *
   * Downsampling: at most one sample per epoch second (`floor(at / 1000)`) per conversation, and the
   * LATEST sample of each second is kept (ties: the later one in the array), across calls too (a
   * unique index on `(conversation_id, at / 1000)` enforces it; a later call's sample replaces a
   * stored one of the same second only if it is not older). The last reading is kept rather than an
   * average because each reading is already an average (RAPL: since the previous read; batteries:
   * firmware-averaged) and because samples of one second may come from different sources, which must
   * not be mixed.
   *
   * Bad input never throws: samples with a non-finite or negative `at` or `powerW`, a non-string
   * source or a non-boolean `measured` are dropped; `at` is truncated to whole ms. Samples for a
   * conversation that does not exist (deleted meanwhile) are ignored; a `messageId` that does not
   * exist in this conversation is stored as null (unattributed).
   * @throws StoreError for storage failures (then nothing of the batch is written).
   */
  addPowerSamples(conversationId: string, messageId: string | null, samples: PowerSample[]): void {
    const kept = downsample(Array.isArray(samples) ? samples : []);
    if (kept.length === 0) return;
    this.wrap(() => this.txAddPowerSamples(conversationId, messageId, kept));
  }

  /**
   * The Energy view's totals.
   *
   * - `conversations`: every conversation with at least one reply (assistant message), chat
   *   (`source` `app`) and local API (`source` `api`, {@link apiConversation}) alike, most recently
   *   updated first (ties: most recently created first). Totals over its assistant
   *   messages: `energyJ` (replies without energy count 0 J), `promptTokens`, `completionTokens`,
   *   `energyJPerToken` = energyJ ÷ completionTokens (0 without tokens; replies without energy still
   *   count their tokens), `models` = the stats model names (`stats.modelName`), most replies first
   *   (ties: used last first), `replies` = assistant messages, `measured` = at least one reply has
   *   energy and every reply with energy was measured (false when nothing was measured: no energy
   *   is not a measurement).
   * - `days`: the last `days` local calendar days ending with the day of `now` (local time of this
   *   process, `YYYY-MM-DD`), API replies included, only the days with use (at least one reply with
   *   stats ended then), oldest first. A reply counts on the local day its `stats.endedAt` falls on. Per day, one entry
   *   per model name (the model path when the name is empty), sorted by name: `energyJ` and
   *   `completionTokens`.
   *
   * @param options.days how many local days back, today included: an integer ≥ 1.
   * @param options.now ms since the epoch; default the store clock.
   * @throws RangeError when `days` is not an integer ≥ 1.
   */
  energySummary(options: { days: number; now?: number }): { conversations: ConversationEnergy[]; days: DailyEnergy[] } {
    const { days } = options;
    if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be an integer >= 1 (got ${String(days)})`);
    const now = options.now ?? this.timestamp();
    const first = new Date(now);
    first.setHours(0, 0, 0, 0);
    first.setDate(first.getDate() - (days - 1));
    const afterToday = new Date(now);
    afterToday.setHours(0, 0, 0, 0);
    afterToday.setDate(afterToday.getDate() + 1);

    const { totals, models, replies } = this.wrap(() =>
      this.db.transaction(() => ({
        totals: this.stmt.energyByConversation.all(),
        models: this.stmt.modelsByConversation.all(),
        replies: this.stmt.repliesEndedBetween.all(first.getTime(), afterToday.getTime()),
      }))(),
    );

    const modelsOf = new Map<string, string[]>();
    for (const m of models) {
      const list = modelsOf.get(m.conversationId);
      if (list === undefined) modelsOf.set(m.conversationId, [m.modelName]);
      else list.push(m.modelName);
    }
    const conversations: ConversationEnergy[] = totals.map((t) => ({
      conversationId: t.id,
      title: t.title,
      source: t.source,
      updatedAt: t.updatedAt,
      energyJ: t.energyJ,
      promptTokens: t.promptTokens,
      completionTokens: t.completionTokens,
      energyJPerToken: t.completionTokens > 0 ? t.energyJ / t.completionTokens : 0,
      models: modelsOf.get(t.id) ?? [],
      measured: t.withEnergy > 0 && t.measuredCount === t.withEnergy,
      replies: t.replies,
    }));

    const byDay = new Map<string, Map<string, { energyJ: number; completionTokens: number }>>();
    for (const r of replies) {
      const day = localDay(r.endedAt);
      let perModel = byDay.get(day);
      if (perModel === undefined) byDay.set(day, (perModel = new Map()));
      const entry = perModel.get(r.modelName) ?? { energyJ: 0, completionTokens: 0 };
      entry.energyJ += r.energyJ ?? 0;
      entry.completionTokens += r.completionTokens;
      perModel.set(r.modelName, entry);
    }
    const dayList: DailyEnergy[] = [...byDay.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([day, perModel]) => ({
        day,
        models: [...perModel.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([modelName, v]) => ({ modelName, energyJ: v.energyJ, completionTokens: v.completionTokens })),
      }));
    return { conversations, days: dayList };
  }

  /**
   * A conversation's stored power trace: its samples ordered by time (`at`, then insertion), and
   * the window of each assistant reply with stats in conversation order (`startedAt`..`endedAt` from
   * its stats, `energyJ` 0 when it has no energy, `modelName` from its stats). Null when there is no
   * such conversation.
   */
  energyTrace(conversationId: string): EnergyTrace | null {
    return this.wrap(() =>
      this.db.transaction((): EnergyTrace | null => {
        if (this.stmt.conversationExists.get(conversationId) === undefined) return null;
        return {
          conversationId,
          samples: this.stmt.traceSamples.all(conversationId).map((s) => ({ ...s, measured: s.measured === 1 })),
          replies: this.stmt.traceReplies.all(conversationId),
        };
      })(),
    );
  }

  /**
   * CSV of messages ({@link toCsv}: RFC 4180, CRLF, header row, formula-injection guard), of one
   * conversation or of all (conversations in creation order, messages in conversation order). One
   * row per message with the columns {@link messagesCsvColumns}: times as ISO 8601 UTC, numbers
   * unformatted, empty cells where a message has no stats or energy, `energy_measured`
   * `true`/`false`, `source` the conversation's source (`app` or `api`; API conversations are
   * exported too). `fileName`: {@link exportFileName} with today's local date (store clock) and, for
   * one conversation, its title's slug.
   * @throws StoreError `NOT_FOUND` when `conversationId` is given and there is no such conversation.
   */
  exportMessagesCsv(conversationId?: string): { fileName: string; csv: string } {
    const { title, rows } = this.wrap(() =>
      this.db.transaction(() => {
        const title = conversationId === undefined ? undefined : this.stmt.conversationTitle.get(conversationId)?.title;
        if (conversationId !== undefined && title === undefined) throw new StoreError('NOT_FOUND', `conversation ${conversationId} not found`);
        return { title, rows: this.stmt.exportMessages.all({ cid: conversationId ?? null }) };
      })(),
    );
    const cells = rows.map((r): CsvCell[] => {
      const e = toEnergy(r);
      const hasStats = r.stats_model_path !== null;
      return [
        r.conversation_id,
        r.conversation_title,
        r.id,
        r.role,
        r.status,
        new Date(r.created_at).toISOString(),
        hasStats ? r.stats_model_name : null,
        hasStats ? r.stats_quantization : null,
        hasStats ? r.prompt_tokens : null,
        hasStats ? r.completion_tokens : null,
        hasStats ? r.ttft_ms : null,
        hasStats ? r.decode_tokens_per_second : null,
        hasStats ? r.threads : null,
        e?.energyJ ?? null,
        e?.energyJPerToken ?? null,
        e?.avgPowerW ?? null,
        e?.peakPowerW ?? null,
        e?.sourceLabel ?? null,
        e?.measured ?? null,
        r.content,
        r.conversation_source,
      ];
    });
    return { fileName: exportFileName('messages', this.timestamp(), title), csv: toCsv(messagesCsvColumns, cells) };
  }

  /**
   * CSV of stored power samples ({@link toCsv}), of one conversation or of all (conversations in
   * creation order, samples by time), with the columns {@link samplesCsvColumns}: `at` as ISO 8601
   * UTC and `at_ms` (ms since the epoch), `power_w` in W, `source` (label) and `source_id`,
   * `measured` `true`/`false`. `fileName` as for {@link exportMessagesCsv}.
   * @throws StoreError `NOT_FOUND` when `conversationId` is given and there is no such conversation.
   */
  exportSamplesCsv(conversationId?: string): { fileName: string; csv: string } {
    const { title, rows } = this.wrap(() =>
      this.db.transaction(() => {
        const title = conversationId === undefined ? undefined : this.stmt.conversationTitle.get(conversationId)?.title;
        if (conversationId !== undefined && title === undefined) throw new StoreError('NOT_FOUND', `conversation ${conversationId} not found`);
        return { title, rows: this.stmt.exportSamples.all({ cid: conversationId ?? null }) };
      })(),
    );
    const cells = rows.map((r): CsvCell[] => [
      new Date(r.at).toISOString(),
      r.at,
      r.conversationId,
      r.messageId,
      r.powerW,
      r.sourceLabel,
      r.sourceId,
      r.measured === 1,
    ]);
    return { fileName: exportFileName('samples', this.timestamp(), title), csv: toCsv(samplesCsvColumns, cells) };
  }

  // -------------------------------------------------------------------------------------------
  // Governor measurements (this machine's)
  // -------------------------------------------------------------------------------------------

  /**
   * Records one model load on this machine (`machineKey`), now: its wall time `loadMs` (ms) and the
   * energy attributed to it `loadEnergyJ` (J; null when no source could tell), with the file's size.
   * @throws RangeError for an empty path, a size that is not an integer ≥ 0, or a time or energy
   *   that is negative or not finite (nothing is written).
   */
  recordModelLoad(input: { modelPath: string; modelSizeBytes: number; loadMs: number; loadEnergyJ: number | null }): void {
    const { modelPath, modelSizeBytes, loadMs, loadEnergyJ } = input;
    if (typeof modelPath !== 'string' || modelPath === '') throw new RangeError('modelPath must be a non-empty string');
    if (!Number.isSafeInteger(modelSizeBytes) || modelSizeBytes < 0) throw new RangeError(`modelSizeBytes must be an integer >= 0 (got ${String(modelSizeBytes)})`);
    if (!Number.isFinite(loadMs) || loadMs < 0) throw new RangeError(`loadMs must be a finite number >= 0 (got ${String(loadMs)})`);
    if (loadEnergyJ !== null && (!Number.isFinite(loadEnergyJ) || loadEnergyJ < 0)) {
      throw new RangeError(`loadEnergyJ must be null or a finite number >= 0 (got ${String(loadEnergyJ)})`);
    }
    this.wrap(() => this.stmt.insertModelLoad.run(modelPath, modelSizeBytes, this.machineKey, loadMs, loadEnergyJ, this.timestamp()));
  }

  /**
   * What loading `modelPath` costs on this machine: medians over its most recent loads (at most
   * the last 20, and only those with the file size of the latest load: a replaced file starts
   * over). `medianLoadEnergyJ` is over the loads that have an energy (null when none has);
   * `samples` is how many loads the time median is over. Null when the model was never loaded here.
   */
  modelLoadCosts(modelPath: string): ModelLoadCosts | null {
    const rows = this.wrap(() => this.stmt.recentModelLoads.all(this.machineKey, modelPath, modelLoadWindow));
    const latest = rows[0];
    if (latest === undefined) return null;
    const same = rows.filter((r) => r.modelSizeBytes === latest.modelSizeBytes);
    return {
      medianLoadMs: median(same.map((r) => r.loadMs)) ?? 0,
      medianLoadEnergyJ: median(same.flatMap((r) => (r.loadEnergyJ === null ? [] : [r.loadEnergyJ]))),
      samples: same.length,
    };
  }

  /**
   * A fact about this machine stored by {@link setMachineFact}, checked with `schema`: `{ value,
   * measuredAt }` (ms since the epoch), or null when there is none, or when the stored JSON does not
   * parse or fails `schema` (then measure again).
   */
  getMachineFact<T>(key: string, schema: z.ZodType<T>): { value: T; measuredAt: number } | null {
    const row = this.wrap(() => this.stmt.getMachineFact.get(this.machineKey, key));
    if (row === undefined) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.value_json);
    } catch {
      return null;
    }
    const checked = schema.safeParse(parsed);
    return checked.success ? { value: checked.data, measuredAt: row.measured_at } : null;
  }

  /**
   * Stores a fact about this machine (e.g. its effective memory bandwidth) as JSON under `key`,
   * measured now, replacing the previous value. JSON rules apply (`NaN` becomes null, `Date`s
   * strings...): read it back with a schema ({@link getMachineFact}).
   * @throws TypeError when `value` cannot be written as JSON (undefined, a function, a BigInt, a cycle).
   */
  setMachineFact(key: string, value: unknown): void {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      throw new TypeError(`machine fact ${key} cannot be stored as JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (json === undefined) throw new TypeError(`machine fact ${key} cannot be stored as JSON (${typeof value})`);
    const text = json;
    this.wrap(() => this.stmt.putMachineFact.run(this.machineKey, key, text, this.timestamp()));
  }

  /**
   * How each model file has performed here ({@link ModelPerformance}), most recently used first.
   * From the assistant messages with stats, status `complete` or `stopped`, and at least
   * {@link minPerformanceCompletionTokens} completion tokens.
   *
   * Limitation: messages do not record the machine they were generated on, so every stored reply
   * counts as this machine's (a database copied from another computer skews these figures until
   * new replies outnumber the old ones).
   */
  modelPerformance(): ModelPerformance[] {
    const rows = this.wrap(() => this.stmt.performanceReplies.all(minPerformanceCompletionTokens));
    const byPath = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byPath.get(r.modelPath);
      if (list === undefined) byPath.set(r.modelPath, [r]);
      else list.push(r);
    }
    const result: ModelPerformance[] = [];
    for (const [modelPath, list] of byPath) {
      const withEnergy = list.filter((r) => r.energyJ !== null);
      const threadUse = new Map<number, { count: number; last: number }>();
      list.forEach((r, i) => {
        if (r.threads === null) return;
        const u = threadUse.get(r.threads) ?? { count: 0, last: -1 };
        threadUse.set(r.threads, { count: u.count + 1, last: i });
      });
      let threads = 1;
      let best = { count: 0, last: -1 };
      for (const [t, u] of threadUse) {
        if (u.count > best.count || (u.count === best.count && u.last > best.last)) {
          threads = t;
          best = u;
        }
      }
      const nums = (values: (number | null)[]) => values.filter((v): v is number => v !== null && Number.isFinite(v));
      result.push({
        modelPath,
        modelName: list[list.length - 1]?.modelName ?? '',
        replies: list.length,
        medianDecodeTokensPerSecond: median(nums(list.map((r) => r.decode))) ?? 0,
        medianPrefillTokensPerSecond: median(nums(list.filter((r) => (r.prefillTokens ?? 0) > 0 && (r.prefill ?? 0) > 0).map((r) => r.prefill))),
        medianEnergyJPerToken: median(nums(withEnergy.map((r) => r.energyJPerToken))),
        medianAvgPowerW: median(nums(withEnergy.map((r) => r.avgPowerW))),
        measuredShare: withEnergy.length === 0 ? null : withEnergy.filter((r) => r.measured === 1).length / withEnergy.length,
        threads,
        lastAt: Math.max(...list.map((r) => r.endedAt ?? 0)),
      });
    }
    return result.sort((a, b) => b.lastAt - a.lastAt || (a.modelPath < b.modelPath ? -1 : 1));
  }

  /**
   * Recent use, for the battery target: the replies (assistant messages with stats, any status)
   * whose `endedAt` is within the last `sinceMs` ms (`now - sinceMs` ≤ endedAt ≤ `now`).
   * `hours` is the span that use covers: from the start of the first of those replies (not before
   * the window) to `now`, in hours, at least 1 (so a single short burst is not extrapolated to a
   * huge rate); `tokensPerHour` = completionTokens ÷ hours. No reply: zeros with `hours` 1.
   *
   * @param options.sinceMs the window length, a duration in ms (not a timestamp).
   * @param options.now ms since the epoch; default the store clock.
   * @throws RangeError when `sinceMs` is negative or not finite.
   */
  recentUsage(options: { sinceMs: number; now?: number }): RecentUsage {
    const { sinceMs } = options;
    if (!Number.isFinite(sinceMs) || sinceMs < 0) throw new RangeError(`sinceMs must be a finite duration >= 0 (got ${String(sinceMs)})`);
    const now = options.now ?? this.timestamp();
    const from = now - sinceMs;
    const rows = this.wrap(() => this.stmt.repliesEndedBetween.all(from, now + 1));
    let completionTokens = 0;
    let promptTokens = 0;
    let firstStart = Number.POSITIVE_INFINITY;
    for (const r of rows) {
      completionTokens += r.completionTokens;
      promptTokens += r.promptTokens;
      firstStart = Math.min(firstStart, r.startedAt);
    }
    const spanMs = rows.length === 0 ? 0 : now - Math.max(from, firstStart);
    const hours = Math.max(1, spanMs / hourMs);
    return { completionTokens, promptTokens, replies: rows.length, hours, tokensPerHour: completionTokens / hours };
  }

  // -------------------------------------------------------------------------------------------

  private timestamp(): number {
    return Math.max(0, Math.trunc(this.now()));
  }

  /** Runs `fn`, turning storage failures into {@link StoreError}s. */
  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e, this.filePath, () => diskAlmostFull(this.filePath));
    }
  }
}

/**
 * The columns of {@link Store.exportMessagesCsv}, in order (units in the names: ms, tokens/s, J, J/token, W);
 * `source` (last) is the conversation's source, `app` or `api`.
 */
export const messagesCsvColumns = [
  'conversation_id',
  'conversation_title',
  'message_id',
  'role',
  'status',
  'created_at',
  'model',
  'quantization',
  'prompt_tokens',
  'completion_tokens',
  'ttft_ms',
  'decode_tokens_per_second',
  'threads',
  'energy_j',
  'energy_j_per_token',
  'avg_power_w',
  'peak_power_w',
  'energy_source',
  'energy_measured',
  'content',
  'source',
] as const;

/** The columns of {@link Store.exportSamplesCsv}, in order. */
export const samplesCsvColumns = ['at', 'at_ms', 'conversation_id', 'message_id', 'power_w', 'source', 'source_id', 'measured'] as const;

function toCalibration(row: CalibrationRow): ThreadCalibration | null {
  let trials: unknown;
  try {
    trials = JSON.parse(row.trials_json);
  } catch {
    return null;
  }
  const checked = trialsSchema.safeParse(trials);
  if (!checked.success) return null;
  return {
    modelPath: row.model_path,
    modelSizeBytes: row.model_size_bytes,
    bestThreads: row.best_threads,
    trials: checked.data,
    measuredAt: row.measured_at,
  };
}
