/**
 * The Wattwise store: conversations, messages, settings and thread calibrations in one SQLite file
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
import { mkdirSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  settingsSchema,
  threadTrialSchema,
  type ConversationDetail,
  type ConversationSummary,
  type Message,
  type MessageStatus,
  type ReplyStats,
  type Role,
  type Settings,
  type ThreadCalibration,
} from '../../shared/contract.js';
import type { CalibrationStore } from '../engine/types.js';
import { assertKnownSchemaVersion, migrate } from './migrations/index.js';
import { StoreError, toStoreError } from './storeError.js';

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
}

/** The title of a new conversation until its first user message names it. */
export const defaultConversationTitle = 'New chat';

/** Longest automatic title, in characters (code points), before the '…'. */
const autoTitleMaxChars = 60;

/**
 * The automatic title for a conversation whose first user message is `content`: the first non-blank
 * line, whitespace collapsed, cut at 60 characters on a word boundary (hard cut when the first 60
 * characters hold no space past their middle) with '…' appended when cut. A blank message gives
 * {@link defaultConversationTitle}.
 */
export function deriveTitle(content: string): string {
  const line = content.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
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
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  promptTokens: number;
  completionTokens: number;
  snippet: string | null;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  role: Role;
  content: string;
  status: MessageStatus;
  created_at: number;
  error: string | null;
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
  };
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
          },
    error: row.error,
    energy: null, // energy columns arrive with migration 003
  };
}

function toSummary(row: SummaryRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    systemPrompt: row.systemPrompt,
    modelPath: row.modelPath,
    energyJ: 0, // energy columns arrive with migration 003
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
}

/** What {@link Store.finishMessage} takes. */
export interface FinishMessageInput {
  content: string;
  status: MessageStatus;
  stats: ReplyStats | null;
  error: string | null;
}

/** Summary columns of conversation `c`, with the aggregates over its messages. */
const summaryColumns = `
  c.id AS id, c.title AS title, c.system_prompt AS systemPrompt, c.model_path AS modelPath,
  c.created_at AS createdAt, c.updated_at AS updatedAt,
  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS messageCount,
  (SELECT coalesce(sum(m.prompt_tokens), 0) FROM messages m
    WHERE m.conversation_id = c.id AND m.role = 'assistant') AS promptTokens,
  (SELECT coalesce(sum(m.completion_tokens), 0) FROM messages m
    WHERE m.conversation_id = c.id AND m.role = 'assistant') AS completionTokens`;

const messageColumns = `id, conversation_id, role, content, status, created_at, error,
  stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens,
  completion_tokens, ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads,
  context_size, started_at, ended_at`;

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
    started_at = @started_at, ended_at = @ended_at`;
  return {
    insertConversation: db.prepare<[string, string, string, string | null, number, number, number]>(
      `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    listConversations: db.prepare<[], SummaryRow>(
      `SELECT ${summaryColumns}, NULL AS snippet FROM conversations c ORDER BY c.updated_at DESC, c.seq DESC`,
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
    insertMessage: db.prepare<[StatsParams & { id: string; conversation_id: string; role: string; content: string; status: string; created_at: number; error: string | null }], MessageRow>(
      `INSERT INTO messages (id, conversation_id, role, content, status, created_at, error,
         stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens, completion_tokens,
         ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads, context_size, started_at, ended_at)
       VALUES (@id, @conversation_id, @role, @content, @status, @created_at, @error,
         @stats_model_path, @stats_model_name, @stats_quantization, @prompt_tokens, @prefill_tokens, @completion_tokens,
         @ttft_ms, @prefill_tokens_per_second, @decode_tokens_per_second, @threads, @context_size, @started_at, @ended_at)
       RETURNING ${messageColumns}`,
    ),
    updateMessageContent: db.prepare<[string, string]>('UPDATE messages SET content = ? WHERE id = ?'),
    finishMessage: db.prepare<[StatsParams & { id: string; content: string; status: string; error: string | null }], MessageRow>(
      `UPDATE messages SET content = @content, status = @status, error = @error, ${statsSet}
        WHERE id = @id RETURNING ${messageColumns}`,
    ),
    updateUserMessage: db.prepare<[string, string], MessageRow>(
      `UPDATE messages SET content = ? WHERE id = ? AND role = 'user' RETURNING ${messageColumns}`,
    ),
    getMessage: db.prepare<[string], MessageRow>(`SELECT ${messageColumns} FROM messages WHERE id = ?`),
    listMessages: db.prepare<[string], MessageRow>(`SELECT ${messageColumns} FROM messages WHERE conversation_id = ? ORDER BY seq`),
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
  };
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

  /**
   * Opens (creating it and its folders if needed) the database at `options.filePath`, sets the
   * pragmas (WAL, `synchronous=FULL`, foreign keys, 5 s busy timeout), applies pending migrations,
   * and marks every message left `streaming` as `interrupted` ({@link recoveredInterruptedCount}).
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
      const recovered = db.prepare(`UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'`).run().changes;
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

  private constructor(db: Database.Database, filePath: string, machineKey: string, now: () => number, recovered: number) {
    this.db = db;
    this.filePath = filePath;
    this.machineKey = machineKey;
    this.now = now;
    this.recoveredInterruptedCount = recovered;

    this.stmt = prepareStatements(db);

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
        const row = this.stmt.finishMessage.get({ id, content: input.content, status: input.status, error: input.error, ...statsParams(input.stats) });
        if (row === undefined) throw new StoreError('NOT_FOUND', `message ${id} not found`);
        this.stmt.touchConversation.run(this.timestamp(), row.conversation_id);
        return toMessage(row);
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
  }

  /** Closes the database (checkpointing the WAL). Idempotent; the store cannot be used afterwards. */
  close(): void {
    if (!this.db.open) return;
    this.wrap(() => this.db.close());
  }

  // -------------------------------------------------------------------------------------------
  // Conversations
  // -------------------------------------------------------------------------------------------

  /**
   * Creates an empty conversation. Without `title` (or with a blank one) it is titled
   * {@link defaultConversationTitle} automatically, and its first user message will name it; a given
   * title counts as chosen by the user. `createdAt` = `updatedAt` = now.
   */
  createConversation(input: { systemPrompt: string; modelPath: string | null; title?: string }): ConversationSummary {
    const chosen = input.title?.trim() ?? '';
    const title = chosen === '' ? defaultConversationTitle : chosen;
    const at = this.timestamp();
    const id = randomUUID();
    this.wrap(() => this.stmt.insertConversation.run(id, title, input.systemPrompt, input.modelPath, at, at, chosen === '' ? 1 : 0));
    return {
      id,
      title,
      createdAt: at,
      updatedAt: at,
      systemPrompt: input.systemPrompt,
      modelPath: input.modelPath,
      messageCount: 0,
      promptTokens: 0,
      energyJ: 0,
      completionTokens: 0,
      snippet: null,
    };
  }

  /**
   * Every conversation, most recently updated first (ties: most recently created first), `snippet`
   * null. `messageCount` counts all messages; `promptTokens` / `completionTokens` sum the stats of
   * the assistant messages.
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
   */
  searchConversations(query: string): ConversationSummary[] {
    if (query.trim() === '') return this.listConversations();
    const q = toFtsQuery(query);
    if (q === null) return [];
    return this.wrap(() => this.stmt.search.all({ q }).map(toSummary));
  }

  /** The conversation with all its messages, oldest first (insertion order), or null if there is none with this id. */
  getConversation(id: string): ConversationDetail | null {
    return this.wrap(() =>
      this.db.transaction(() => {
        const summary = this.stmt.getSummary.get(id);
        if (summary === undefined) return null;
        return { conversation: toSummary(summary), messages: this.stmt.listMessages.all(id).map(toMessage) };
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
  }): Message {
    return this.wrap(() => this.txAddMessage(input));
  }

  /**
   * Replaces a message's content (a partial flush while a reply streams): one UPDATE, which also
   * re-indexes the message for search. Nothing else changes.
   * @throws StoreError `NOT_FOUND` if there is no such message.
   */
  updateMessageContent(id: string, content: string): void {
    this.wrap(() => {
      if (this.stmt.updateMessageContent.run(content, id).changes === 0) {
        throw new StoreError('NOT_FOUND', `message ${id} not found`);
      }
    });
  }

  /**
   * Sets a message's final content, status, stats and error (replacing all four), and the
   * conversation's `updatedAt` to now. Returns the message.
   * @throws StoreError `NOT_FOUND` if there is no such message.
   */
  finishMessage(id: string, input: { content: string; status: MessageStatus; stats: ReplyStats | null; error: string | null }): Message {
    return this.wrap(() => this.txFinishMessage(id, input));
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

  /** The message, or null if there is none with this id. */
  getMessage(id: string): Message | null {
    return this.wrap(() => {
      const row = this.stmt.getMessage.get(id);
      return row === undefined ? null : toMessage(row);
    });
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
