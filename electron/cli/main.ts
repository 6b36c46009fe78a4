/**
 * The Wattwise command line: `npm run -s wattwise -- <command> [options]`.
 *
 * Commands: `chat`, `models`, `history`, `web`, `serve`, `governor`, `power`, `calibrate` (see {@link usage}). Every command goes through the same
 * backend as the app (store, engine, API contract), so what the CLI stores the app shows.
 *
 * Exit codes: 0 success; 1 the command failed (one-line reason on stderr); 2 bad usage; 130 interrupted.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import type { ApiError, ConversationSummary, Message, ModelInfo } from '../../shared/contract.js';
import { formatBytes, formatDurationMs, formatEnergyJ, formatParameterCount, formatTokensPerSecond } from '../../shared/format.js';
import { profileIdSchema, type GovernorDecision, type GovernorSettings } from '../../shared/contract.js';
import { defaultGovernorSettings } from '../core/governorSettings.js';
import type { GovernorPowerInput } from '../core/governorService.js';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { openRuntime, openRuntimeForReading } from '../core/runtime.js';
import { defaultDataDir } from '../core/paths.js';
import { readModelInfo } from '../models/catalog.js';
import type { ChatEngine } from '../engine/types.js';
import { startWebMode } from '../server/webMode.js';
import { calibrateUsage } from './calibrate.js';
import { serveUsage } from './serve.js';
import { historyDataUsage } from './history.js';

/** Help text. */
export const usage = `Usage: npm run -s wattwise -- <command> [options]

Commands:
  chat     --prompt TEXT [--model FILE] [--max-tokens N] [--threads N] [--context-size N]
           [--system TEXT] [--data-dir DIR] [--models-dir DIR] [--json] [governor target flags]
           Streams a reply to stdout and stores the conversation like the app does. Without
           --model the power governor chooses among the models in the models folder.
  governor [--models-dir DIR] [--data-dir DIR] [--json] [governor target flags]
           Prints the governor's decision and the candidate table.
  models   [--models-dir DIR] [--data-dir DIR] [--json]
           Lists the GGUF files in the models folder and in other apps' folders (LM Studio, Ollama,
           the Hugging Face cache, GPT4All, Jan) with their source; unusable ones with the reason.
  models pull <hf:org/repo/file.gguf | hf:org/repo:QUANT | URL> [--models-dir DIR] [--data-dir DIR] [--json]
           Downloads a model into the models folder: resumable, checked against the Hub's SHA-256.
  history  [--data-dir DIR] [--json]
           Lists stored conversations with message counts and token totals.
  ${historyDataUsage}
  web      [--port P] [--host H] [--data-dir DIR] [--models-dir DIR] [--cpu-only]
           Starts the browser mode on 127.0.0.1 and prints the URL (with its access token).
  ${serveUsage}
  power    [--json] [--sysfs-root DIR] [--watch] [--interval-ms N]
           Lists the power sensors (battery, RAPL, GPU, estimate): state, fix, watts now, and the battery.
  ${calibrateUsage}

Governor target flags:
  --profile performance|balanced|saver   (default: the profile set in the app for AC / battery)
  --watt-cap W                 average W above idle while generating (Custom)
  --battery-until HH:MM | --battery-hours H   the battery must last until then (Custom)
  --reserve-percent P          battery to keep (default 10)
  --min-tokens-per-second R    decode speed floor (default 5, about reading speed)
  --min-quality Q              quality floor 0..1
  --power-state-json FILE      decide for another power state, e.g.
                               {"onAc": false, "batteryPercent": 40, "batteryCapacityWh": 55, "baselinePowerW": 6}

Environment: WATTWISE_DATA_DIR (data folder), WATTWISE_MODELS_DIR (models folder), HF_ENDPOINT (Hugging Face
mirror, default https://huggingface.co), HF_TOKEN (for gated repositories).`;

/** A usage error: exit code 2. */
class UsageError extends Error {}
/** A failed command: exit code 1, message printed as one line. */
class CommandError extends Error {}

/**
 * Resolves when stdout is closed by its reader (EPIPE: `wattwise … | head`). Installing this handler also
 * keeps a closed pipe from crashing the process with an unhandled 'error' event; commands that stream
 * (chat) stop their work when it resolves.
 */
const stdoutClosed = new Promise<void>((resolveClosed) => {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') resolveClosed();
  });
});

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'chat':
      return chat(rest);
    case 'models':
      return models(rest);
    case 'history': {
      if (rest[0] !== 'export' && rest[0] !== 'import') return history(rest);
      const { historyDataCommand, HistoryUsageError } = await import('./history.js');
      try {
        return await historyDataCommand(rest, idleEngine);
      } catch (error) {
        if (error instanceof HistoryUsageError) throw new UsageError(error.message);
        throw error;
      }
    }
    case 'web':
      return web(rest);
    case 'governor':
      return governorCommand(rest);
    case 'power':
      return (await import('./power.js')).powerCommand(rest);
    case 'serve': {
      const { serveCommand, ServeUsageError } = await import('./serve.js');
      try {
        return await serveCommand(rest);
      } catch (error) {
        if (error instanceof ServeUsageError) throw new UsageError(error.message);
        throw error;
      }
    }
    case 'calibrate': {
      const { calibrateCommand, CalibrateUsageError } = await import('./calibrate.js');
      try {
        return await calibrateCommand(rest);
      } catch (error) {
        if (error instanceof CalibrateUsageError) throw new UsageError(error.message);
        throw error;
      }
    }
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
    ...governorFlags,
  });
  if (!v.prompt || !(v.prompt as string).trim()) throw new UsageError('chat needs --prompt TEXT (not empty)');
  const modelPath = v.model ? resolve(v.model as string) : null;
  const target = await governorTarget(v);
  const maxTokens = positiveInt(v['max-tokens'] as string | undefined, '--max-tokens');
  const threads = positiveInt(v.threads as string | undefined, '--threads');
  const contextSize = positiveInt(v['context-size'] as string | undefined, '--context-size');
  const json = v.json === true;

  // Check the file before opening anything, so a bad path fails in milliseconds with one line.
  if (modelPath) {
    const checked = await readModelInfo(modelPath);
    if (!checked.usable) throw new CommandError(`${modelPath}: ${checked.problem ?? 'not a usable GGUF model'}`);
  }

  const backend = await openRuntime({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    modelsDirOverride: (v['models-dir'] as string | undefined) ?? null,
    powerStateOverride: target.powerState,
    // The user named the file on the command line: it may be anywhere.
    modelPathsAnywhere: true,
    overrides: { maxReplyTokens: maxTokens, threads, contextSize, ...(target.governor ? { governor: target.governor } : {}) },
    gpu: v['cpu-only'] ? false : 'auto',
    logLevel: 'error',
  });
  let interrupted = false;
  let outputClosed = false;
  let requestId: string | null = null;
  const onSigint = () => {
    interrupted = true;
    if (requestId) void backend.request('chat.abort', { requestId });
  };
  process.on('SIGINT', onSigint);
  // A closed stdout (`chat … | head -c 10`): stop generating and keep the partial reply, rather than die on EPIPE.
  const onOutputClosed = () => {
    outputClosed = true;
    if (requestId) void backend.request('chat.abort', { requestId });
  };
  stdoutClosed.then(onOutputClosed, () => undefined);
  try {
    const conversation = unwrap(
      await backend.request('conversations.create', {
        ...(modelPath ? { modelPath } : {}),
        ...(v.system !== undefined ? { systemPrompt: v.system as string } : {}),
      }),
    );
    // A chat that fails before its message is stored leaves no empty conversation behind.
    const dropIfEmpty = async () => {
      const detail = await backend.request('conversations.get', { id: conversation.id });
      if (detail.ok && detail.value.messages.length === 0) await backend.request('conversations.delete', { id: conversation.id });
    };
    let decision: GovernorDecision | null;
    try {
      decision = modelPath ? null : unwrap(await backend.request('governor.decide', { conversationId: conversation.id }));
    } catch (error) {
      await dropIfEmpty();
      throw error;
    }
    const done = new Promise<{ message: Message; error: ApiError | null }>((resolveDone) => {
      backend.onEvent((event) => {
        if (event.type === 'chat.token' && event.requestId === requestId && !json && !outputClosed) process.stdout.write(event.text);
        if (event.type === 'chat.done' && event.requestId === requestId) resolveDone({ message: event.message, error: event.error });
      });
    });
    const sent = await backend.request('chat.send', { conversationId: conversation.id, content: v.prompt as string, ...(modelPath ? { modelPath } : {}) });
    if (!sent.ok) await dropIfEmpty();
    const started = unwrap(sent);
    requestId = started.requestId;
    if (outputClosed) void backend.request('chat.abort', { requestId });
    const { message, error } = await done;
    if (error) throw new CommandError(error.message);
    if (outputClosed) throw new CommandError(`the output was closed: the reply was stopped and its ${message.content.length} characters stored (conversation ${conversation.id})`);
    const stats = message.stats;
    const energy = message.energy;
    const info = await readModelInfo(stats?.modelPath ?? modelPath ?? '');
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
        energyJ: energy?.energyJ ?? null,
        energyJPerToken: energy?.energyJPerToken ?? null,
        avgPowerW: energy?.avgPowerW ?? null,
        peakPowerW: energy?.peakPowerW ?? null,
        baselinePowerW: energy?.baselinePowerW ?? null,
        energySource: energy?.sourceLabel ?? null,
        energySourceId: energy?.sourceId ?? null,
        energyMethod: energy?.method ?? null,
        energyMeasured: energy?.measured ?? null,
        energyFallbackReason: energy?.fallbackReason ?? null,
        ...(decision ? { governor: decisionJson(decision) } : {}),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write('\n');
      if (decision) process.stderr.write(`\nGovernor (${decision.profile}): ${decision.reason}\n`);
      if (stats) {
        process.stderr.write(
          `\n${info.name} ${info.quantization ?? ''} · ${stats.promptTokens} prompt · ${stats.completionTokens} completion tokens · ` +
            `TTFT ${formatDurationMs(stats.ttftMs)} · ${formatTokensPerSecond(stats.decodeTokensPerSecond)} · ${stats.threads} ${stats.threads === 1 ? 'thread' : 'threads'}` +
            `${message.status === 'stopped' ? ' · stopped' : ''}\n`,
        );
      }
      if (energy) {
        process.stderr.write(
          `${energy.measured ? '' : '≈'}${formatEnergyJ(energy.energyJ)} · ${energy.energyJPerToken.toPrecision(3)} J/token · ` +
            `${energy.avgPowerW.toFixed(1)} W avg · ${energy.sourceLabel}${energy.fallbackReason ? ` (${energy.fallbackReason})` : ''}\n`,
        );
      }
    }
    return interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await backend.dispose();
  }
}

/** What the `models` table calls each source. */
const sourceLabels: Record<ModelInfo['source'], string> = {
  'models-folder': 'models folder',
  lmstudio: 'LM Studio',
  ollama: 'Ollama',
  'huggingface-cache': 'HF cache',
  gpt4all: 'GPT4All',
  jan: 'Jan',
};

async function models(args: string[]): Promise<number> {
  if (args[0] === 'pull') return (await import('./pull.js')).pullCommand(args.slice(1));
  const v = parse(args, { 'models-dir': { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  // Same resolution as the app (setting, --models-dir, env, default) and the same sources (Settings
  // `modelSources`: LM Studio, Ollama, the Hugging Face cache, GPT4All, Jan), which needs the store.
  const backend = await openRuntime({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    modelsDirOverride: (v['models-dir'] as string | undefined) ?? null,
    engineFactory: () => idleEngine,
    telemetry: false,
  });
  let dir: string;
  let list: ModelInfo[];
  try {
    dir = backend.modelsDir();
    list = unwrap(await backend.request('models.list', {}));
  } finally {
    await backend.dispose();
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ modelsDir: dir, models: list })}\n`);
    return 0;
  }
  process.stdout.write(`Models in ${dir}${list.some((m) => m.source !== 'models-folder') ? ' and other apps\' folders' : ''}\n`);
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
    `${sourceLabels[m.source]}${m.appName ? ` (${m.appName})` : ''}`,
    m.source === 'models-folder' ? m.fileName : m.path,
  ]);
  printTable(['NAME', 'ARCH', 'PARAMS', 'QUANT', 'SIZE', 'STATUS', 'SOURCE', 'FILE'], rows);
  return 0;
}

async function history(args: string[]): Promise<number> {
  const v = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  // Reading only: a data folder on a read-only disk (or none yet) is listed without writing anything.
  const backend = await openRuntimeForReading({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    engineFactory: () => idleEngine,
    telemetry: false,
  });
  let list: ConversationSummary[] = [];
  if (backend) {
    try {
      list = unwrap(await backend.request('conversations.list', {}));
    } finally {
      await backend.dispose();
    }
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

/** The flags that set the governor's target (chat and governor commands). */
const governorFlags = {
  profile: { type: 'string' },
  'watt-cap': { type: 'string' },
  'battery-until': { type: 'string' },
  'battery-hours': { type: 'string' },
  'reserve-percent': { type: 'string' },
  'min-tokens-per-second': { type: 'string' },
  'min-quality': { type: 'string' },
  'power-state-json': { type: 'string' },
} as const;

const powerStateFileSchema = z
  .object({
    onAc: z.boolean(),
    batteryPercent: z.number().min(0).max(100).nullable().optional(),
    batteryCapacityWh: z.number().nonnegative().nullable().optional(),
    batteryEnergyWh: z.number().nonnegative().nullable().optional(),
    baselinePowerW: z.number().nonnegative().nullable().optional(),
    thermalThrottled: z.boolean().optional(),
  })
  .strict();

/**
 * Governor settings and power state from the target flags: `--profile` applies on AC and battery alike;
 * any Custom flag without `--profile` selects Custom. Null `governor` = the app's own settings.
 * @throws UsageError for a bad value, CommandError for an unreadable or invalid `--power-state-json`.
 */
async function governorTarget(v: Record<string, string | boolean | undefined>): Promise<{ governor: GovernorSettings | null; powerState: GovernorPowerInput | null }> {
  const num = (flag: string, min: number, max: number) => {
    const raw = v[flag];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got "${String(raw)}"`);
    return n;
  };
  const profileRaw = v.profile as string | undefined;
  const profile = profileRaw === undefined ? undefined : profileIdSchema.safeParse(profileRaw);
  if (profile && !profile.success) throw new UsageError(`--profile must be performance, balanced, saver or custom, got "${profileRaw}"`);
  const until = v['battery-until'] as string | undefined;
  if (until !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(until)) throw new UsageError(`--battery-until must be HH:MM (24-hour), got "${until}"`);
  const custom = {
    wattCapW: num('watt-cap', 0.01, 1000),
    batteryUntil: until,
    batteryHours: num('battery-hours', 0.01, 72),
    reservePercent: num('reserve-percent', 0, 90),
    minDecodeTokensPerSecond: num('min-tokens-per-second', 0, 10000),
    minQuality: num('min-quality', 0, 1),
  };
  const anyCustom = Object.values(custom).some((x) => x !== undefined);
  let powerState: GovernorPowerInput | null = null;
  const file = v['power-state-json'] as string | undefined;
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(resolve(file), 'utf8'));
    } catch (error) {
      throw new CommandError(`--power-state-json ${file}: ${(error as Error).message}`);
    }
    const checked = powerStateFileSchema.safeParse(parsed);
    if (!checked.success) throw new CommandError(`--power-state-json ${file}: ${z.prettifyError(checked.error).replace(/\n/g, ' ')}`);
    const p = checked.data;
    powerState = {
      onAc: p.onAc,
      batteryPercent: p.batteryPercent ?? null,
      batteryCapacityWh: p.batteryCapacityWh ?? null,
      batteryEnergyWh: p.batteryEnergyWh ?? null,
      baselinePowerW: p.baselinePowerW ?? null,
      thermalThrottled: p.thermalThrottled ?? false,
    };
  }
  if (!profile && !anyCustom) return { governor: null, powerState };
  const chosen = profile?.data ?? 'custom';
  const base = defaultGovernorSettings;
  return {
    governor: {
      ...base,
      acProfile: chosen,
      batteryProfile: chosen,
      custom: {
        wattCapW: custom.wattCapW ?? null,
        batteryUntil: custom.batteryUntil ?? null,
        batteryHours: custom.batteryHours ?? null,
        reservePercent: custom.reservePercent ?? base.custom.reservePercent,
        minDecodeTokensPerSecond: custom.minDecodeTokensPerSecond ?? base.custom.minDecodeTokensPerSecond,
        minQuality: custom.minQuality ?? base.custom.minQuality,
      },
    },
    powerState,
  };
}

/** The decision in the CLI's JSON shape (issue 4): the chosen variant's path and settings up front. */
function decisionJson(d: GovernorDecision) {
  return {
    modelPath: d.chosen?.modelPath ?? null,
    name: d.chosen?.name ?? null,
    quantization: d.chosen?.quantization ?? null,
    threads: d.chosen?.settings.threads ?? null,
    gpuLayers: d.chosen?.settings.gpuLayers ?? null,
    contextSize: d.chosen?.settings.contextSize ?? null,
    predicted: d.chosen?.predicted ?? null,
    bindingConstraint: d.bindingConstraint,
    violated: d.violated,
    budgetW: d.budgetW,
    reason: d.reason,
    profile: d.profile,
    onAc: d.onAc,
    batteryPercent: d.batteryPercent,
  };
}

async function governorCommand(args: string[]): Promise<number> {
  const v = parse(args, {
    'models-dir': { type: 'string' },
    'data-dir': { type: 'string' },
    'context-size': { type: 'string' },
    threads: { type: 'string' },
    'cpu-only': { type: 'boolean' },
    json: { type: 'boolean' },
    ...governorFlags,
  });
  const target = await governorTarget(v);
  const backend = await openRuntime({
    dataDir: dataDirOf(v['data-dir'] as string | undefined),
    transport: 'ipc',
    modelsDirOverride: (v['models-dir'] as string | undefined) ?? null,
    powerStateOverride: target.powerState,
    gpu: v['cpu-only'] ? false : 'auto',
    logLevel: 'error',
    // The telemetry supplies the power state unless the caller gave one.
    telemetry: target.powerState === null,
    overrides: {
      threads: positiveInt(v.threads as string | undefined, '--threads'),
      contextSize: positiveInt(v['context-size'] as string | undefined, '--context-size'),
      ...(target.governor ? { governor: target.governor } : {}),
    },
  });
  let decision: GovernorDecision;
  try {
    decision = unwrap(await backend.request('governor.decide', {}));
  } finally {
    await backend.dispose();
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ decision: decisionJson(decision), candidates: decision.candidates, machine: decision.machine })}\n`);
    return 0;
  }
  const power = decision.onAc ? 'on AC' : `on battery${decision.batteryPercent !== null ? `, ${Math.round(decision.batteryPercent)}%` : ''}`;
  process.stdout.write(`Profile: ${decision.profile} (${power})\n${decision.reason}\n\n`);
  if (decision.candidates.length === 0) {
    process.stdout.write('No usable models.\n');
    return 0;
  }
  printTable(
    ['#', 'VARIANT', 'QUANT', 'SIZE', 'TOK/S', 'W', 'J/TOKEN', 'QUALITY', 'FITS', 'SOURCE', 'WHY NOT'],
    decision.candidates.map((c) => [
      `${c.chosen ? '→' : ' '}${c.rank}`,
      c.name,
      c.quantization ?? '—',
      formatBytes(c.sizeBytes),
      c.predicted.decodeTokensPerSecond.toPrecision(3),
      c.predicted.powerW.toFixed(1),
      c.predicted.energyJPerToken.toPrecision(3),
      c.quality.toFixed(2),
      c.fits ? 'yes' : 'no',
      c.predicted.source,
      c.chosen ? 'chosen' : (c.whyNot ?? ''),
    ]),
  );
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
