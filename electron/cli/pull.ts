/**
 * `npm run -s wattwise -- models pull <hf-URI|URL> [--models-dir DIR] [--data-dir DIR] [--sha256 HEX] [--json]`:
 * downloads a GGUF model into the models folder, resumably and verified (see
 * `electron/models/download/downloader.ts`).
 *
 * Sources: `hf:<org>/<repo>/<file.gguf>[#rev]`, `hf:<org>/<repo>:<QUANT>`, `hf:<org>/<repo>`, a Hub URL
 * (`…/resolve/<rev>/<file>` or `…/blob/…`), or any `https://…/<name>.gguf` (see `hfUri.ts`). Hub files go to
 * `<models>/<org>/<repo>/<file>`, plain URLs to `<models>/<file>`. The models folder is `--models-dir`, else
 * `WATTWISE_MODELS_DIR`, else `<data folder>/models` with the data folder from `--data-dir` /
 * `WATTWISE_DATA_DIR` / the platform default (the database is not opened, so the in-app models-folder setting
 * is not read: pass `--models-dir` when it differs). `HF_ENDPOINT` and `HF_TOKEN` work like huggingface_hub's.
 *
 * Output: progress on stderr (one updating line on a terminal, else one line every 3 s), then
 * `Saved <path> …` on stderr; with `--json`, exactly one JSON line on stdout:
 * `{"path","sizeBytes","sha256","verified","resumedFromBytes"}`.
 * Ctrl+C (SIGINT) or SIGTERM pauses: the `.part` file stays, and the same command resumes it.
 *
 * Exit codes: 0 done (also when the file was already there), 1 failed (one line on stderr), 2 bad usage,
 * 130 paused by SIGINT/SIGTERM.
 *
 * Test-only: `WATTWISE_TEST_FREE_BYTES=N` makes the free-disk-space probe report N bytes (to test the refusal
 * without filling a disk). Nothing else reads it.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { formatBytes } from '../../shared/format.js';
import { defaultDataDir, resolveModelsDir } from '../core/paths.js';
import { DownloadError, parseModelSource } from '../models/download/hfUri.js';
import { hubConfigFromEnv } from '../models/download/hub.js';
import { startPull, type DownloadProgress, type FreeSpaceProbe } from '../models/download/downloader.js';

/** Help text of the command. */
export const pullUsage = `Usage: npm run -s wattwise -- models pull <hf-URI|URL> [--models-dir DIR] [--data-dir DIR] [--sha256 HEX] [--json]
  <hf-URI|URL>    hf:<org>/<repo>/<file.gguf>[#revision], hf:<org>/<repo>:<QUANT> (e.g. :Q4_K_M),
                  https://huggingface.co/<org>/<repo>/resolve/<revision>/<file.gguf>, or https://…/<name>.gguf
  --models-dir D  where to put it (default: WATTWISE_MODELS_DIR, else <data folder>/models)
  --data-dir D    data folder (default: WATTWISE_DATA_DIR, else the app's)
  --sha256 HEX    expected sha256 (plain URLs have none otherwise; Hub files are checked against the Hub's)
  --json          print {"path","sizeBytes","sha256","verified","resumedFromBytes"} on stdout when done
Environment: HF_ENDPOINT (Hub mirror), HF_TOKEN (gated/private repos). Ctrl+C pauses; run again to resume.`;

/** Test seams: output streams, whether stderr is a terminal, the environment. */
export interface PullCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Whether stderr is a terminal (default `process.stderr.isTTY`). */
  isTTY?: boolean;
  /** Environment (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** Seconds between progress lines when stderr is not a terminal. */
const PLAIN_PROGRESS_INTERVAL_MS = 3000;

/**
 * Runs `models pull`; `args` are the words after `models pull` (a leading `pull` is skipped). Resolves with the
 * exit code; never throws.
 */
export async function pullCommand(args: string[], io: PullCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const env = io.env ?? process.env;
  const tty = io.isTTY ?? process.stderr.isTTY === true;
  const usageError = (message: string) => {
    err(`wattwise: ${message.split('\n')[0]}\nRun "npm run -s wattwise -- models pull --help" for usage.\n`);
    return 2;
  };

  let values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args,
      options: {
        'models-dir': { type: 'string' },
        'data-dir': { type: 'string' },
        sha256: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    out(`${pullUsage}\n`);
    return 0;
  }
  if (positionals[0] === 'pull') positionals = positionals.slice(1);
  if (positionals.length !== 1) return usageError(positionals.length === 0 ? 'models pull needs an hf: URI or a URL' : `models pull takes one source, got ${positionals.length}`);
  const input = positionals[0]!;
  const sha = values.sha256;
  if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha)) return usageError(`--sha256 must be 64 hex digits, got "${sha}"`);
  let freeBytes: FreeSpaceProbe | undefined;
  const testFree = env.WATTWISE_TEST_FREE_BYTES;
  if (testFree !== undefined && testFree !== '') {
    const n = Number(testFree);
    if (!Number.isSafeInteger(n) || n < 0) return usageError(`WATTWISE_TEST_FREE_BYTES must be a whole number of bytes, got "${testFree}"`);
    freeBytes = () => Promise.resolve(n);
  }
  let hub;
  try {
    hub = hubConfigFromEnv(env);
    parseModelSource(input, { endpoint: hub.endpoint }); // syntax errors are bad usage (exit 2)
  } catch (error) {
    return usageError((error as Error).message);
  }
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : defaultDataDir(env);
  const modelsDir = resolveModelsDir({ dataDir, setting: null, override: values['models-dir'] ?? null, env });

  // Progress display.
  let label = input;
  let lineShown = false;
  let lastPlain = performance.now();
  const clearLine = () => {
    if (tty && lineShown) err('\r\x1b[K');
    lineShown = false;
  };
  const onProgress = (p: DownloadProgress) => {
    const text = formatProgress(label, p);
    if (tty) {
      err(`\r\x1b[K${text}`);
      lineShown = true;
    } else if (performance.now() - lastPlain >= PLAIN_PROGRESS_INTERVAL_MS) {
      lastPlain = performance.now();
      err(`${text}\n`);
    }
  };

  const handle = startPull(input, {
    modelsDir,
    hub,
    ...(sha !== undefined ? { expectedSha256: sha } : {}),
    ...(freeBytes ? { freeBytes } : {}),
    onProgress,
    progressIntervalMs: tty ? 250 : 500,
    onResolved: (info) => {
      label = info.source.replace(/^hf:/, '');
    },
  });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    handle.pause();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await handle.result;
    clearLine();
    if (result.alreadyPresent) err(`Already there: ${result.path} (${formatBytes(result.sizeBytes)}${result.verified ? ', sha256 verified' : ''})\n`);
    else {
      const resumed = result.resumedFromBytes > 0 ? `, resumed from ${formatBytes(result.resumedFromBytes)}` : '';
      err(`Saved ${result.path} (${formatBytes(result.sizeBytes)}, ${result.verified ? 'sha256 verified' : 'not verified: no sha256 known'}${resumed})\n`);
    }
    if (values.json) {
      const { path, sizeBytes, sha256, verified, resumedFromBytes } = result;
      out(`${JSON.stringify({ path, sizeBytes, sha256, verified, resumedFromBytes })}\n`);
    }
    return 0;
  } catch (error) {
    clearLine();
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    err(`wattwise: ${message}\n`);
    if (interrupted && error instanceof DownloadError && error.code === 'ABORTED') return 130;
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** One progress line: `org/repo/file.gguf  12.3 MB / 1.20 GB  1.0%  5.10 MB/s  ETA 3m 55s`. */
export function formatProgress(label: string, p: DownloadProgress): string {
  const parts = [label, p.totalBytes !== null ? `${formatBytes(p.downloadedBytes)} / ${formatBytes(p.totalBytes)}` : formatBytes(p.downloadedBytes)];
  if (p.totalBytes !== null && p.totalBytes > 0) parts.push(`${((p.downloadedBytes / p.totalBytes) * 100).toFixed(1)}%`);
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaMs !== null && p.bytesPerSecond > 0) parts.push(`ETA ${formatEta(p.etaMs)}`);
  return parts.join('  ');
}

function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
