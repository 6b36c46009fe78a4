/**
 * `npm run -s wattwise -- history export|import`: conversations out of and into a data folder, through the same
 * API calls as the app (`history.export`, `history.import`).
 *
 * - `history export [--conversation ID] [--format md|json] [--data-dir DIR]` prints one conversation (or every chat
 *   conversation) to stdout: an archive (`shared/archive.ts`, default) or Markdown. It only reads: the data folder
 *   is opened read-only (nothing is created or migrated on disk); a folder with no database exports nothing.
 * - `history import FILE [--data-dir DIR] [--json]` adds the conversations of an archive (`-` reads stdin). The
 *   file is checked whole first: a bad one is refused and nothing is written. `--json` prints
 *   `{"imported", "conversationIds", "renamedIds", "messages"}`.
 *
 * Exit codes (as every command, see ./main.ts): 0 done; 1 failed, with one line on stderr; 2 bad usage
 * ({@link HistoryUsageError}).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import type { ApiError } from '../../shared/contract.js';
import { buildConversationArchive } from '../../shared/archive.js';
import { maxArchiveTextChars } from '../../shared/dataContract.js';
import type { ChatEngine } from '../engine/types.js';
import { openRuntime, openRuntimeForReading, packageVersion } from '../core/runtime.js';
import { defaultDataDir } from '../core/paths.js';

/** Help lines of the two subcommands (inserted in the CLI's usage). */
export const historyDataUsage = `history export [--conversation ID] [--format md|json] [--data-dir DIR]
           Prints one conversation, or every one, as JSON (everything, for import) or Markdown.
  history import FILE [--data-dir DIR] [--json]
           Adds the conversations of an exported JSON file (- reads stdin); ids already taken get new ones.`;

/** Bad usage of `history export|import`: exit code 2. */
export class HistoryUsageError extends Error {}

/** Where the output goes (tests pass their own). */
export interface HistoryIo {
  stdout?: (text: string) => void;
  /** Reads all of stdin (for `import -`). */
  readStdin?: () => Promise<string>;
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: ApiError }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new HistoryUsageError((error as Error).message);
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += b.length;
    if (bytes > 4 * maxArchiveTextChars) throw new Error(`stdin is too large for an import (over ${4 * maxArchiveTextChars} bytes)`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs `history export …` or `history import …` (`args` starts with the subcommand). `engine` is an engine that
 * never loads a model (these commands do not generate).
 * @returns the exit code (0).
 * @throws HistoryUsageError for bad usage; Error with a one-line message when the command fails.
 */
export async function historyDataCommand(args: string[], engine: ChatEngine, io: HistoryIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const [sub, ...rest] = args;
  if (sub === 'export') {
    const { values, positionals } = parse(rest, { conversation: { type: 'string' }, format: { type: 'string' }, 'data-dir': { type: 'string' } });
    if (positionals.length > 0) throw new HistoryUsageError(`unexpected argument "${positionals[0]}"`);
    const format = (values.format as string | undefined) ?? 'json';
    if (format !== 'md' && format !== 'json') throw new HistoryUsageError(`--format must be md or json, got "${format}"`);
    const conversationId = values.conversation as string | undefined;
    if (conversationId !== undefined && (conversationId.length === 0 || conversationId.length > 64)) {
      throw new HistoryUsageError('--conversation needs a conversation id (see history --json)');
    }
    const backend = await openRuntimeForReading({
      dataDir: values['data-dir'] ? resolve(values['data-dir'] as string) : defaultDataDir(),
      transport: 'ipc',
      engineFactory: () => engine,
      telemetry: false,
    });
    if (!backend) {
      // No database yet: nothing to export (and nothing created).
      if (conversationId !== undefined) throw new Error(`No conversation with id ${conversationId} (this data folder has no database yet)`);
      if (format === 'json') out(`${JSON.stringify(buildConversationArchive([], { exportedAt: Date.now(), exportedBy: `Wattwise ${packageVersion()}` }), null, 2)}\n`);
      return 0;
    }
    try {
      const file = unwrap(await backend.request('history.export', { format, ...(conversationId !== undefined ? { conversationId } : {}) }));
      out(file.text);
    } finally {
      await backend.dispose();
    }
    return 0;
  }
  if (sub === 'import') {
    const { values, positionals } = parse(rest, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new HistoryUsageError(positionals.length === 0 ? 'history import needs the FILE to import' : `unexpected argument "${positionals[1]}"`);
    const file = positionals[0]!;
    let text: string;
    if (file === '-') {
      text = await (io.readStdin ?? readAllStdin)();
    } else {
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch (error) {
        throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
      // Refused before reading: even all-ASCII, it would exceed the character limit.
      if (size > 4 * maxArchiveTextChars) throw new Error(`${file} is too large to import (${size} bytes)`);
      text = await readFile(file, 'utf8');
    }
    const backend = await openRuntime({
      dataDir: values['data-dir'] ? resolve(values['data-dir'] as string) : defaultDataDir(),
      transport: 'ipc',
      engineFactory: () => engine,
      telemetry: false,
    });
    let result;
    try {
      result = unwrap(await backend.request('history.import', { text }));
    } finally {
      await backend.dispose();
    }
    if (values.json) {
      out(`${JSON.stringify(result)}\n`);
    } else {
      const renamed = result.renamedIds > 0 ? `; ${result.renamedIds} got new ids because theirs were already taken` : '';
      out(`Imported ${result.imported} ${result.imported === 1 ? 'conversation' : 'conversations'} (${result.messages} messages)${renamed}.\n`);
    }
    return 0;
  }
  throw new HistoryUsageError(`unknown history subcommand "${sub ?? ''}" (export or import)`);
}
