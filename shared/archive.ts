/**
 * The conversation archive: what "Export… JSON" writes and "Import…" reads (the app, the browser mode and
 * `wattwise history export|import`), and the Markdown rendering of one conversation.
 *
 * Format `wattwise.conversations`, version 1 (JSON, UTF-8):
 * ```json
 * { "format": "wattwise.conversations", "version": 1, "exportedAt": 1714560000000, "exportedBy": "Wattwise 0.1.0",
 *   "conversations": [ { "conversation": ConversationSummary, "messages": Message[], "powerSamples": ArchivedPowerSample[] } ],
 *   "presets": Preset[] }
 * ```
 * Each entry reuses the contract's own schemas (`conversationSummarySchema`, `messageSchema`, `powerSampleSchema`),
 * so a field added to a message or a conversation in `shared/contract.ts` is exported and validated on import
 * with no change here (the store's importer writes it: one line in `electron/store/archive.ts`). A new field must
 * be optional (or have a default) there, or archives written before it would no longer import.
 *
 * Pure module: no Node, DOM or Electron imports (shared by both sides).
 */
import { z } from 'zod';
import { conversationSummarySchema, messageSchema, powerSampleSchema, type ConversationDetail, type Message, type MessageVersion } from './contract.js';
import { approx, formatDurationMs, formatEnergyJ, formatJPerToken, formatTokensPerSecond, variantLabel } from './format.js';
import { presetSchema } from './presets.js';
import { maxArchiveTextChars } from './dataContract.js';

/** The `format` tag of an archive. */
export const archiveFormat = 'wattwise.conversations';
/** The archive version this build writes and the newest it reads. */
export const archiveVersion = 1;

/**
 * Bounds on what an import accepts, so a huge or hostile file is refused before it costs memory or disk.
 * Design choices, not measurements: 32 Mi characters hold thousands of long conversations; the counts cap
 * the rows one file may add.
 */
export const archiveLimits = {
  /** Characters of the archive's JSON text. */
  maxTextChars: maxArchiveTextChars,
  /** Conversations in one archive. */
  maxConversations: 10_000,
  /** Messages of one conversation. */
  maxMessagesPerConversation: 20_000,
  /** Power samples of one conversation (one per second: over 27 hours of generating). */
  maxSamplesPerConversation: 100_000,
} as const;

/** One stored power sample of a conversation, with the reply it was taken during (null between replies). */
export const archivedPowerSampleSchema = powerSampleSchema.extend({ messageId: messageSchema.shape.id.nullable() });
/** One stored power sample of a conversation. */
export type ArchivedPowerSample = z.infer<typeof archivedPowerSampleSchema>;

/**
 * One conversation in an archive: its summary (the aggregates `messageCount`, tokens, `energyJ` and `snippet`
 * are informative: an import recomputes them from the messages), its messages oldest first, and its power
 * trace (optional: absent means none).
 */
export const archivedConversationSchema = z.object({
  conversation: conversationSummarySchema,
  messages: z.array(messageSchema).max(archiveLimits.maxMessagesPerConversation),
  powerSamples: z.array(archivedPowerSampleSchema).max(archiveLimits.maxSamplesPerConversation).optional(),
});
/** One conversation in an archive. */
export type ArchivedConversation = z.infer<typeof archivedConversationSchema>;

/** A whole archive (see the module doc). */
export const conversationArchiveSchema = z.object({
  format: z.literal(archiveFormat),
  version: z.literal(archiveVersion),
  /** When it was written, ms since the epoch. */
  exportedAt: z.number().int().nonnegative(),
  /** What wrote it, e.g. "Wattwise 0.1.0" (informative). */
  exportedBy: z.string().max(200).optional(),
  conversations: z.array(archivedConversationSchema).max(archiveLimits.maxConversations),
  /** The user presets the conversations use (built-ins are never listed); an import adds those it lacks. */
  presets: z.array(presetSchema).max(1000).optional(),
});
/** A whole archive. */
export type ConversationArchive = z.infer<typeof conversationArchiveSchema>;

/** What {@link parseConversationArchive} returns: the archive, or one line saying what is wrong with the text. */
export type ParsedArchive = { ok: true; archive: ConversationArchive } | { ok: false; message: string };

/** `conversations[0].messages[3].role` from a zod path. */
function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `${text ? '.' : ''}${String(part)}`;
  return text;
}

/**
 * Reads an archive from its JSON text and checks it whole before anything is written: size, JSON syntax,
 * the format tag and version, every field against the contract's schemas, and that each message and sample
 * belongs to its conversation. Never throws.
 *
 * @returns the archive, or `{ ok: false, message }` with one line for the user, e.g. `not JSON (Unexpected
 *   token } in JSON at position 12)`, `not a Wattwise conversation export (…)`, `conversations[0].messages[2].role:
 *   Invalid option: expected one of "system"|"user"|"assistant"`.
 */
export function parseConversationArchive(text: string): ParsedArchive {
  if (text.length > archiveLimits.maxTextChars) {
    return { ok: false, message: `the file is too large (${(text.length / 1024 / 1024).toFixed(1)} Mi characters; at most ${archiveLimits.maxTextChars / 1024 / 1024} Mi)` };
  }
  if (text.trim() === '') return { ok: false, message: 'the file is empty' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  return validateConversationArchive(json);
}

/**
 * Checks a value already parsed from JSON the way {@link parseConversationArchive} checks the text (all but the
 * size of the text). Never throws.
 */
export function validateConversationArchive(json: unknown): ParsedArchive {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || (json as { format?: unknown }).format !== archiveFormat) {
    return { ok: false, message: `not a Wattwise conversation export (it has no "format": "${archiveFormat}")` };
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'number' && Number.isInteger(version) && version > archiveVersion) {
    return { ok: false, message: `made by a newer Wattwise (archive version ${version}; this one reads version ${archiveVersion}): update Wattwise to import it` };
  }
  const checked = conversationArchiveSchema.safeParse(json);
  if (!checked.success) {
    const issues = checked.error.issues;
    const shown = issues.slice(0, 3).map((i) => (i.path.length > 0 ? `${pathText(i.path)}: ${i.message}` : i.message));
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    return { ok: false, message: `${shown.join('; ')}${more}` };
  }
  const archive = checked.data;
  for (const [i, entry] of archive.conversations.entries()) {
    const messageIds = new Set<string>();
    for (const [j, m] of entry.messages.entries()) {
      const alternatives = m.alternatives ?? [];
      if (alternatives.length > 1 && !alternatives.some((v) => v.id === m.id)) {
        return { ok: false, message: `conversations[${i}].messages[${j}].alternatives: the message itself ("${m.id}") is not among its versions` };
      }
      const versions: Array<[string, Message | MessageVersion]> = alternatives.length > 1 ? alternatives.map((v, k) => [`messages[${j}].alternatives[${k}]`, v]) : [[`messages[${j}]`, m]];
      for (const [where, v] of versions) {
        if (v.conversationId !== entry.conversation.id) {
          return { ok: false, message: `conversations[${i}].${where}.conversationId: "${v.conversationId}" is not its conversation's id "${entry.conversation.id}"` };
        }
        if (messageIds.has(v.id)) return { ok: false, message: `conversations[${i}].${where}.id: "${v.id}" appears twice` };
        messageIds.add(v.id);
      }
    }
    for (const [j, s] of (entry.powerSamples ?? []).entries()) {
      if (s.messageId !== null && !messageIds.has(s.messageId)) {
        return { ok: false, message: `conversations[${i}].powerSamples[${j}].messageId: "${s.messageId}" is no message of this conversation` };
      }
    }
  }
  return { ok: true, archive };
}

/** Builds an archive of `conversations` (each with its power trace), stamped `exportedAt`. */
export function buildConversationArchive(
  conversations: ArchivedConversation[],
  options: { exportedAt: number; exportedBy?: string; presets?: ConversationArchive['presets'] },
): ConversationArchive {
  return {
    format: archiveFormat,
    version: archiveVersion,
    exportedAt: options.exportedAt,
    ...(options.exportedBy ? { exportedBy: options.exportedBy } : {}),
    conversations,
    ...(options.presets && options.presets.length > 0 ? { presets: options.presets } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

/** `YYYY-MM-DD HH:MM` in the local time of whoever renders it. */
export function formatLocalDateTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getFullYear()).padStart(4, '0')}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Capitalised profile names, as the app shows them. */
const profileNames: Record<NonNullable<Message['governor']>['profile'], string> = {
  performance: 'Performance',
  balanced: 'Balanced',
  saver: 'Saver',
  custom: 'Custom',
};

/** What a message's role is called in the Markdown. */
const roleNames: Record<Message['role'], string> = { user: 'You', assistant: 'Assistant', system: 'System' };

/**
 * The facts line of an assistant reply: model and quantization, energy (J, J/token, with "≈" when estimated,
 * and its source), tokens, time and decode speed; then who chose the model when the governor did. Empty when the
 * reply has no stats.
 */
export function replyFactsMarkdown(message: MessageVersion): string[] {
  const lines: string[] = [];
  const parts: string[] = [];
  const s = message.stats;
  if (s) parts.push(variantLabel({ name: s.modelName || s.modelPath, quantization: s.quantization }));
  const e = message.energy;
  if (e) {
    parts.push(`${approx(e.measured)}${formatEnergyJ(e.energyJ)}`);
    parts.push(`${approx(e.measured)}${formatJPerToken(e.energyJPerToken)}`);
  }
  if (s) {
    parts.push(`${s.completionTokens} tokens`);
    parts.push(formatDurationMs(Math.max(0, s.endedAt - s.startedAt)));
    if (s.decodeTokensPerSecond > 0) parts.push(formatTokensPerSecond(s.decodeTokensPerSecond));
  }
  if (e) parts.push(e.measured ? e.sourceLabel : 'estimated');
  if (parts.length > 0) lines.push(`*${parts.map(escapeInline).join(' · ')}*`);
  if (message.governor) lines.push(`*Chosen by the power governor (${profileNames[message.governor.profile]}): ${escapeInline(message.governor.reason)}*`);
  return lines;
}

/** Text safe inside `*…*` emphasis on one line: asterisks, underscores and backslashes escaped, line breaks as spaces. */
function escapeInline(text: string): string {
  return text.replace(/[\\*_`]/g, (c) => `\\${c}`).replace(/\s*[\r\n]+\s*/g, ' ');
}

/** `text` as a Markdown block quote (every line prefixed with `> `). */
function quote(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

/**
 * One conversation as readable Markdown: the title, when it started and its totals, the system prompt (quoted),
 * then each message under a heading with who wrote it and when; each assistant reply is followed by its model,
 * quantization, energy (J and J/token), tokens and time (see {@link replyFactsMarkdown}), and by its other versions
 * when it was regenerated or tried with another model. A reply that was stopped, interrupted or failed says so. Message text is written as it is (it is Markdown already). Times are in the local
 * time of whoever renders it. Ends with one newline.
 */
export function conversationToMarkdown(detail: ConversationDetail): string {
  const c = detail.conversation;
  // Every version of every reply: its energy was spent whichever one is shown (as the conversation's total).
  const replies = detail.messages.filter((m) => m.role === 'assistant').flatMap((m) => (m.alternatives && m.alternatives.length > 1 ? m.alternatives : [m]));
  const energyJ = replies.reduce((sum, m) => sum + (m.energy?.energyJ ?? 0), 0);
  const tokens = replies.reduce((sum, m) => sum + (m.stats?.completionTokens ?? 0), 0);
  const allMeasured = replies.every((m) => m.energy === null || m.energy.measured);
  const out: string[] = [`# ${c.title.trim() || 'New chat'}`, ''];
  const summary = [`Started ${formatLocalDateTime(c.createdAt)}`, `${detail.messages.length} ${detail.messages.length === 1 ? 'message' : 'messages'}`];
  if (replies.length > 0) summary.push(`${approx(allMeasured)}${formatEnergyJ(energyJ)} for ${tokens} tokens`);
  out.push(`*${summary.join(' · ')}* — exported from Wattwise`, '');
  const systemMessage = detail.messages.find((m) => m.role === 'system');
  const systemPrompt = (systemMessage?.content ?? c.systemPrompt).trim();
  if (systemPrompt) out.push('**System prompt**', '', quote(systemPrompt), '');
  for (const m of detail.messages) {
    if (m.role === 'system' && m === systemMessage) continue;
    out.push('---', '', `### ${roleNames[m.role]} · ${formatLocalDateTime(m.createdAt)}`, '');
    out.push(m.content.trim() === '' ? '*(empty)*' : m.content.replace(/\s+$/, ''), '');
    if (m.status === 'stopped') out.push('*Stopped before the end.*', '');
    if (m.status === 'interrupted') out.push('*Interrupted: Wattwise closed while this reply was being written.*', '');
    if (m.status === 'error') out.push(`*Failed${m.error ? `: ${escapeInline(m.error)}` : '.'}*`, '');
    if (m.role === 'assistant') {
      const facts = replyFactsMarkdown(m);
      if (facts.length > 0) out.push(...facts.flatMap((line) => [line, '']));
      const versions = m.alternatives ?? [];
      if (versions.length > 1) {
        const shown = versions.findIndex((v) => v.id === m.id) + 1;
        out.push(`*This is version ${shown} of ${versions.length} of this reply; the others follow.*`, '');
        versions.forEach((v, k) => {
          if (v.id === m.id) return;
          out.push(`#### Version ${k + 1} of ${versions.length}`, '', v.content.trim() === '' ? '*(empty)*' : v.content.replace(/\s+$/, ''), '');
          out.push(...replyFactsMarkdown(v).flatMap((line) => [line, '']));
        });
      }
    }
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** Several conversations as one Markdown document, separated by a rule. */
export function conversationsToMarkdown(details: ConversationDetail[]): string {
  return details.map(conversationToMarkdown).join('\n\n---\n\n');
}
