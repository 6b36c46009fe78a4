/**
 * The Wattwise command line: `npm run -s wattwise -- <command> [options]`.
 *
 * Commands: `chat`, `models`, `history`, `web` (see {@link usage}). Every command goes through the same
 * backend as the app (store, engine, API contract), so what the CLI stores the app shows.
 *
 * Exit codes: 0 success; 1 the command failed (one-line reason on stderr); 2 bad usage; 130 interrupted.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import type { ApiError, ConversationSummary, Message, ModelInfo } from '../../shared/contract.js';
import { formatBytes, formatDurationMs, formatParameterCount, formatTokensPerSecond } from '../../shared/format.js';
import { openRuntime } from '../core/runtime.js';
import { defaultDataDir } from '../core/paths.js';
import { listModels, readModelInfo } from '../models/catalog.js';
import type { ChatEngine } from '../engine/types.js';
import { startWebMode } from '../server/webMode.js';

/** Help text. */
export const usage = `Usage: npm run -s wattwise -- <command> [options]

Commands:
  chat     --model FILE --prompt TEXT [--max-tokens N] [--threads N] [--context-size N]
           [--system TEXT] [--data-dir DIR] [--json]
           Streams a reply to stdout and stores the conversation like the app does.
  models   [--models-dir DIR] [--data-dir DIR] [--json]
           Lists the GGUF files in the models folder, unusable ones with the reason.
  history  [--data-dir DIR] [--json]
           Lists stored conversations with message counts and token totals.
  web      [--port P] [--host H] [--data-dir DIR] [--models-dir DIR] [--cpu-only]
           Starts the browser mode on 127.0.0.1 and prints the URL (with its access token).
  power    [--json] [--sysfs-root DIR] [--watch] [--interval-ms N]
           Lists the power sensors (battery, RAPL, GPU, estimate): state, fix, watts now, and the battery.

Environment: WATTWISE_DATA_DIR (data folder), WATTWISE_MODELS_DIR (models folder).`;

/** A usage error: exit code 2. */
class UsageError extends Error {}
/** A failed command: exit code 1, message printed as one line. */
class CommandError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'chat':
      return chat(rest);
    case 'models':
      return models(rest);
    case 'history':
      return history(rest);
    case 'web':
      return web(rest);
    case 'power':
      return (await import('./power.js')).powerCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

function dataDirOf(value: string | undefined): string {
  return value ? resolve(value) : defaultDataDir();
}

async function chat(args: string[]): Promise<number> {
  const v = parse(args, {
    model: { type: 'string' },
    prompt: { type: 'string' },
    system: { type: 'string' },
    'max-tokens': { type: 'string' },
    threads: { type: 'string' },
    'context-size': { type: 'string' },
    'data-dir': { type: 'string' },
    'models-dir': { type: 'string' },
    'cpu-only': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!v.model) throw new UsageError('chat needs --model FILE');
  if (!v.prompt) throw new UsageError('chat needs --prompt TEXT');
  const modelPath = resolve(v.model as string);
  const maxTokens = positiveInt(v['max-tokens'] as string | undefined, '--max-tokens');
  const threads = positiveInt(v.threads as string | undefined, '--threads');
  const contextSize = positiveInt(v['context-size'] as string | undefined, '--context-size');
  const json = v.json === true;

  // Check the file before opening anything, so a bad path fails in milliseconds with one line.
  const info = await readModelInfo(modelPath);
  if (!info.usable) throw new CommandError(`${modelPath}: ${info.problem ?? 'not a usable GGUF model'}`);

  const backend = await openRuntime({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    modelsDirOverride: (v['models-dir'] as string | undefined) ?? null,
    overrides: { maxReplyTokens: maxTokens, threads, contextSize },
    gpu: v['cpu-only'] ? false : 'auto',
    logLevel: 'error',
  });
  let interrupted = false;
  let requestId: string | null = null;
  const onSigint = () => {
    interrupted = true;
    if (requestId) void backend.request('chat.abort', { requestId });
  };
  process.on('SIGINT', onSigint);
  try {
    const conversation = unwrap(
      await backend.request('conversations.create', {
        modelPath,
        ...(v.system !== undefined ? { systemPrompt: v.system as string } : {}),
      }),
    );
    const done = new Promise<{ message: Message; error: ApiError | null }>((resolveDone) => {
      backend.onEvent((event) => {
        if (event.type === 'chat.token' && event.requestId === requestId && !json) process.stdout.write(event.text);
        if (event.type === 'chat.done' && event.requestId === requestId) resolveDone({ message: event.message, error: event.error });
      });
    });
    const started = unwrap(await backend.request('chat.send', { conversationId: conversation.id, content: v.prompt as string, modelPath }));
    requestId = started.requestId;
    const { message, error } = await done;
    if (error) throw new CommandError(error.message);
    const stats = message.stats;
    if (json) {
      const result = {
        conversationId: conversation.id,
        messageId: message.id,
        reply: message.content,
        status: message.status,
        model: {
          path: info.path,
          name: info.name,
          architecture: info.architecture,
          quantization: info.quantization,
          sizeBytes: info.sizeBytes,
          parameterCount: info.parameterCount,
        },
        promptTokens: stats?.promptTokens ?? 0,
        prefillTokens: stats?.prefillTokens ?? 0,
        completionTokens: stats?.completionTokens ?? 0,
        ttftMs: stats?.ttftMs ?? null,
        prefillTokensPerSecond: stats?.prefillTokensPerSecond ?? null,
        decodeTokensPerSecond: stats?.decodeTokensPerSecond ?? null,
        threads: stats?.threads ?? null,
        contextSize: stats?.contextSize ?? null,
        startedAt: stats?.startedAt ?? null,
        endedAt: stats?.endedAt ?? null,
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write('\n');
      if (stats) {
        process.stderr.write(
          `\n${info.name} ${info.quantization ?? ''} · ${stats.promptTokens} prompt · ${stats.completionTokens} completion tokens · ` +
            `TTFT ${formatDurationMs(stats.ttftMs)} · ${formatTokensPerSecond(stats.decodeTokensPerSecond)} · ${stats.threads} ${stats.threads === 1 ? 'thread' : 'threads'}` +
            `${message.status === 'stopped' ? ' · stopped' : ''}\n`,
        );
      }
    }
    return interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await backend.dispose();
  }
}

async function models(args: string[]): Promise<number> {
  const v = parse(args, { 'models-dir': { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  let dir: string;
  let list: ModelInfo[];
  if (v['models-dir']) {
    dir = resolve(v['models-dir'] as string);
    list = await listModels(dir);
  } else {
    // Same resolution as the app (setting, env, default), which needs the store's settings.
    const backend = await openRuntime({
      dataDir: dataDirOf(v['data-dir'] as string | undefined),
      transport: 'ipc',
      engineFactory: () => idleEngine,
    });
    try {
      dir = backend.modelsDir();
      list = unwrap(await backend.request('models.list', {}));
    } finally {
      await backend.dispose();
    }
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ modelsDir: dir, models: list })}\n`);
    return 0;
  }
  process.stdout.write(`Models in ${dir}\n`);
  if (list.length === 0) {
    process.stdout.write('  (no .gguf files)\n');
    return 0;
  }
  const rows = list.map((m) => [
    m.name,
    m.architecture ?? '—',
    formatParameterCount(m.parameterCount),
    m.quantization ?? '—',
    formatBytes(m.sizeBytes),
    m.usable ? 'ok' : `unusable: ${m.problem ?? ''}`,
    m.fileName,
  ]);
  printTable(['NAME', 'ARCH', 'PARAMS', 'QUANT', 'SIZE', 'STATUS', 'FILE'], rows);
  return 0;
}

async function history(args: string[]): Promise<number> {
  const v = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  const backend = await openRuntime({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    engineFactory: () => idleEngine,
  });
  let list: ConversationSummary[];
  try {
    list = unwrap(await backend.request('conversations.list', {}));
  } finally {
    await backend.dispose();
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ conversations: list })}\n`);
    return 0;
  }
  if (list.length === 0) {
    process.stdout.write('No conversations yet.\n');
    return 0;
  }
  printTable(
    ['UPDATED', 'TITLE', 'MESSAGES', 'PROMPT TOK', 'COMPLETION TOK', 'ID'],
    list.map((c) => [
      new Date(c.updatedAt).toISOString().replace('T', ' ').slice(0, 16),
      c.title.length > 48 ? `${c.title.slice(0, 47)}…` : c.title,
      String(c.messageCount),
      String(c.promptTokens),
      String(c.completionTokens),
      c.id,
    ]),
  );
  return 0;
}

async function web(args: string[]): Promise<number> {
  const v = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'models-dir': { type: 'string' },
    'cpu-only': { type: 'boolean' },
    'no-build': { type: 'boolean' },
  });
  const port = v.port === undefined ? 0 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got "${v.port}"`);
  const running = await startWebMode({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    modelsDirOverride: (v['models-dir'] as string | undefined) ?? null,
    port,
    host: (v.host as string | undefined) ?? '127.0.0.1',
    gpu: v['cpu-only'] ? false : 'auto',
    build: v['no-build'] !== true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`Wattwise is running. Open this link in a browser (it holds the access token):\n\n  ${running.url}\n\nPress Ctrl+C to stop.\n`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('Stopping…\n');
  await running.close();
  return 0;
}

/** An engine for commands that never generate (models, history): reports idle and refuses to load. */
const idleEngine: ChatEngine = {
  status: () => ({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null }),
  onStatus: () => () => undefined,
  load: () => Promise.reject(new Error('this command does not load models')),
  checkFit: () => Promise.resolve({ fits: true, reason: null, requiredRamBytes: null, gpuLayers: 0 }),
  unload: () => Promise.resolve(),
  generate: () => Promise.reject(new Error('this command does not generate')),
  dispose: () => Promise.resolve(),
};

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: ApiError }): T {
  if (!result.ok) throw new CommandError(result.error.message);
  return result.value;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${line(header)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    process.stderr.write(`wattwise: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write('Run "npm run -s wattwise -- help" for usage.\n');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
