/**
 * Downloads one GGUF file reliably: resumable across processes, verified, cancellable. Plain Node (no Electron).
 *
 * **Why not a library.** node-llama-cpp's `createModelDownloader` and the `ipull` engine under it (both in
 * node_modules) download fast with parallel connections, but they do not fit what this module must guarantee:
 * - ipull keeps its resume state inside its own temporary file (a JSON blob written after the file's bytes,
 *   `saveMedataAfterFile`) and fills chunks out of order, so a partial file is not a prefix of the model: it
 *   cannot resume from our `.part` + sidecar, and the sha256 cannot be computed while writing (every byte would
 *   be read again at the end);
 * - neither verifies the sha256 the Hub publishes (`X-Linked-Etag`), checks free disk space first, tells a
 *   "pause" (keep the partial file) from a "cancel" in a way a later process can pick up, or reports a 200
 *   answer to a `Range` request (a server that ignores ranges) as a restart;
 * - `createModelDownloader` resolves `hf:<org>/<repo>:<QUANT>` through the Ollama-style manifest API
 *   (`/v2/<org>/<repo>/manifests/<tag>`), a different rule from the tree-based pick asked for here.
 * What is left is one sequential HTTP stream with `Range`, which Node's `fetch` (undici) does well; this module is
 * the small wrapper around it. One connection is enough for a laptop app: the Hub's CDN serves a single stream
 * at the speed of a home link.
 *
 * **Files.** For a destination `<dest>` (e.g. `<models>/<org>/<repo>/<file>.gguf`):
 * - `<dest>.part`: the bytes so far, always a prefix of the remote file;
 * - `<dest>.part.json`: the sidecar ({@link PartialDownloadSidecar}): source, URL, expected size and sha256,
 *   ETag, start time; a later process resumes only when it describes the same remote file;
 * - `<dest>.part.lock`: the pid of the process downloading, so two processes never write the same `.part`
 *   (a lock whose process is gone, e.g. after SIGKILL, is taken over).
 * Only after the size and the sha256 check out is `<dest>.part` moved to `<dest>`, without ever replacing an
 * existing file: a different file already at `<dest>` is an `EXISTS` error (picking another name would leave two
 * copies of a model side by side in the catalog); the same file (same sha256, or same size when no sha256 is
 * known) is returned as is with `alreadyPresent: true`.
 *
 * **Steps.** Resolve the metadata ({@link resolveModelSource}); check the destination; check free space for the
 * bytes still missing plus {@link DEFAULT_DISK_MARGIN_BYTES} before writing anything (`statfs`: `bavail ×
 * bsize`, injectable); take the lock; hash the existing `.part`; `GET` with `Range: bytes=<part size>-` (and
 * `If-Range`), appending and hashing each chunk as it arrives; a `200` instead of `206` restarts from byte 0;
 * dropped or stalled connections are retried with exponential backoff (5 tries, 0.5 s → 8 s, counting only
 * failures in a row without progress), from the current `.part` size; an expired CDN link (401/403/410 from the
 * CDN) is re-resolved. Then verify size and sha256 and move into place. A sha256 mismatch deletes `.part` and
 * sidecar: no `.gguf` appears.
 */
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { formatGiB } from '../../../shared/format.js';
import { DownloadError, parseModelSource, safeFileName, type HubFileSource, type UrlSource } from './hfUri.js';
import {
  backoffDelayMs,
  baseName,
  DEFAULT_RETRY,
  fetchFollowingRedirects,
  httpStatusError,
  hubConfigFromEnv,
  isRetryableStatus,
  probeRemoteFile,
  resolveModelSource,
  sleep,
  type HubConfig,
  type RemoteFileInfo,
  type ResolvedSource,
  type RetryPolicy,
} from './hub.js';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** Progress of a download, reported at most every `progressIntervalMs` (default 100 ms) and once at the end. */
export interface DownloadProgress {
  /** Bytes in the `.part` file now (including the resumed ones). */
  downloadedBytes: number;
  /** Size of the whole file in bytes; null when the server does not say. */
  totalBytes: number | null;
  /** Average speed over the last few seconds of this session, in bytes per second (0 at the start). */
  bytesPerSecond: number;
  /** Estimated time left in ms; null when the size or the speed is unknown. */
  etaMs: number | null;
  /** Bytes that were already in the `.part` file when this session started (0 after a restart from 0). */
  resumedFromBytes: number;
}

/** A finished download. */
export interface DownloadResult {
  /** Absolute path of the model file. */
  path: string;
  /** Its size in bytes. */
  sizeBytes: number;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
  /** True when the sha256 matched an expected one (the Hub's, or the caller's); false when none was known. */
  verified: boolean;
  /** Bytes reused from an earlier `.part` (0 for a download from scratch or an already present file). */
  resumedFromBytes: number;
  /** Canonical source (`hf:<org>/<repo>/<file>`, or the URL). */
  source: string;
  /** True when the same file was already at the destination and nothing was downloaded. */
  alreadyPresent: boolean;
}

/** Free bytes available to this user in the file system holding `dir`; null when unknown (no check then). */
export type FreeSpaceProbe = (dir: string) => Promise<number | null>;

/** Knobs shared by every download entry point. */
export interface DownloadTuning {
  /** Called with progress, throttled to one call per `progressIntervalMs`, plus one at the end. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Least ms between two progress calls (default 100, i.e. at most 10 per second). */
  progressIntervalMs?: number;
  /** Free-space probe (default {@link statfsFreeBytes}); tests inject their own. */
  freeBytes?: FreeSpaceProbe;
  /** Bytes to keep free beyond the file (default {@link DEFAULT_DISK_MARGIN_BYTES}). */
  diskMarginBytes?: number;
  /** Retry policy for the transfer (default {@link DEFAULT_RETRY}: 5 tries, 0.5 s → 8 s). */
  retry?: Partial<RetryPolicy>;
  /** A connection that delivers no byte for this many ms is dropped and retried (default 60 000). */
  stallTimeoutMs?: number;
}

/** What {@link pullModel} does when its `signal` aborts: keep the partial download (`pause`) or delete it (`cancel`). */
export type AbortMode = 'pause' | 'cancel';

/** Options of {@link pullModel} and {@link startPull}. */
export interface PullOptions extends DownloadTuning {
  /** Models folder: the file goes to `<modelsDir>/<org>/<repo>/<file>` (Hub) or `<modelsDir>/<file>` (URL). */
  modelsDir?: string;
  /** Exact destination path instead of the layout under `modelsDir`. One of the two is required. */
  destPath?: string;
  /** Hub endpoint and token (default {@link hubConfigFromEnv} of `env`). */
  hub?: HubConfig;
  /** Environment for `HF_ENDPOINT` / `HF_TOKEN` when `hub` is not given (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Expected sha256 (64 hex) when the caller knows it; for plain URLs it is the only way to get `verified: true`. */
  expectedSha256?: string | null;
  /** Aborts the pull; what happens to the partial file is `onAbort`. */
  signal?: AbortSignal;
  /** `pause` (default): keep `.part` + sidecar to resume later; `cancel`: delete them. */
  onAbort?: AbortMode;
  /** Called once the file and its destination are known, before any byte is downloaded. */
  onResolved?: (info: ResolvedPull) => void;
}

/** The file a pull resolved to (given to `onResolved`). */
export interface ResolvedPull {
  /** Canonical source of the file (the quantization picked for `:QUANT`). */
  source: string;
  /** Absolute destination path. */
  destPath: string;
  /** Size in bytes; null when unknown. */
  sizeBytes: number | null;
  /** Expected sha256; null when unknown. */
  sha256: string | null;
}

/** The sidecar `<dest>.part.json`: which remote file the `.part` holds the beginning of. */
export interface PartialDownloadSidecar {
  version: 1;
  /** Canonical source (`hf:…` or the URL). */
  source: string;
  /** The URL asked for the file (the Hub resolve URL or the plain URL), without credentials. */
  url: string;
  /** Size of the remote file in bytes; null when unknown. */
  expectedSize: number | null;
  /** Expected sha256 (lower-case hex); null when unknown. */
  sha256: string | null;
  /** The remote version's identity (see {@link RemoteFileInfo.etag}); null when unknown. */
  etag: string | null;
  /** When the download first started (ISO 8601). */
  startedAt: string;
}

/** A partial download found on disk by {@link listPartialDownloads}. */
export interface PartialDownload extends PartialDownloadSidecar {
  /** Where the finished file will go. */
  destPath: string;
  /** The `.part` file. */
  partPath: string;
  /** The sidecar file. */
  sidecarPath: string;
  /** Bytes in the `.part` file now (0 when it is missing). */
  downloadedBytes: number;
}

/** A running pull: its result, and the two ways to stop it. */
export interface PullHandle {
  /** Resolves with the result; rejects with a {@link DownloadError} (`ABORTED` after `pause`/`cancel`). */
  result: Promise<DownloadResult>;
  /** Stops, keeping `.part` + sidecar so a later pull resumes. */
  pause(): void;
  /** Stops and deletes `.part` + sidecar. */
  cancel(): void;
}

/** Bytes kept free beyond the file when checking disk space: 64 MiB. */
export const DEFAULT_DISK_MARGIN_BYTES = 64 * 1024 * 1024;

/** Default {@link DownloadTuning.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Paths of the partial-download files of a destination. */
export function partPaths(destPath: string): { partPath: string; sidecarPath: string; lockPath: string } {
  const partPath = `${destPath}.part`;
  return { partPath, sidecarPath: `${partPath}.json`, lockPath: `${partPath}.lock` };
}

/**
 * Free bytes for this user in the file system of `dir` (`fs.promises.statfs`: `bavail × bsize`); null when
 * `statfs` fails (unsupported file system), in which case no check is made.
 */
export async function statfsFreeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}


function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** A local file error as a {@link DownloadError}: `DISK_FULL` for ENOSPC/EDQUOT, `IO` otherwise. */
function fsError(error: unknown, what: string): DownloadError {
  if (error instanceof DownloadError) return error;
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DownloadError('DISK_FULL', `the disk is full while ${what}`, { cause: error });
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (code ?? (error as Error).message);
  return new DownloadError('IO', `${what}: ${reason}`, { cause: error });
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/** The nearest folder of `dir` or its parents that exists (for `statfs` before anything is created). */
async function nearestExistingDir(dir: string): Promise<string> {
  let current = resolve(dir);
  for (;;) {
    try {
      if ((await stat(current)).isDirectory()) return current;
    } catch {
      // keep going up
    }
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}

/** sha256 of the first `length` bytes of a file (all of it when omitted), fed into `hash`. */
async function hashFilePrefix(path: string, hash: Hash, length?: number): Promise<number> {
  if (length === 0) return 0;
  let bytes = 0;
  const stream = createReadStream(path, length === undefined ? {} : { start: 0, end: length - 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return bytes;
}

/** Lower-case hex sha256 of a whole file. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFilePrefix(path, hash);
  return hash.digest('hex');
}

function normalizeSha(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(v)) throw new DownloadError('BAD_INPUT', `not a sha256 (64 hex digits): "${value}"`);
  return v;
}

/**
 * Where a resolved source goes under `modelsDir`: `<modelsDir>/<org>/<repo>/<file name>` for a Hub file (LM
 * Studio's layout, which the catalog lists; the file's folders inside the repo are dropped) and
 * `<modelsDir>/<file name>` for a plain URL. Absolute.
 */
export function destinationFor(modelsDir: string, source: HubFileSource | UrlSource): string {
  if (source.kind === 'url') return resolve(modelsDir, source.fileName);
  return resolve(modelsDir, source.owner, source.repo, safeFileName(baseName(source.path)));
}

// ---------------------------------------------------------------------------------------------
// Sidecar, lock, partial downloads
// ---------------------------------------------------------------------------------------------

const sidecarSchema = z.object({
  version: z.literal(1),
  source: z.string(),
  url: z.string(),
  expectedSize: z.number().int().nonnegative().nullable(),
  sha256: z.string().nullable(),
  etag: z.string().nullable(),
  startedAt: z.string(),
});

async function readSidecar(path: string): Promise<PartialDownloadSidecar | null> {
  try {
    const parsed = sidecarSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function writeSidecar(path: string, sidecar: PartialDownloadSidecar): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(sidecar, null, 2)}\n`);
  await rename(tmp, path);
}

/** True when the sidecar describes the same remote file as `remote` (so its `.part` can be continued). */
function sidecarMatches(sidecar: PartialDownloadSidecar, remote: RemoteFileInfo, expectedSha: string | null): boolean {
  if (remote.sizeBytes !== null && sidecar.expectedSize !== null && remote.sizeBytes !== sidecar.expectedSize) return false;
  if (expectedSha !== null) return sidecar.sha256 === expectedSha;
  if (sidecar.url !== remote.url) return false;
  if (remote.etag !== null) return sidecar.etag === remote.etag;
  // No identity at all: same URL and same known size.
  return remote.sizeBytes !== null && sidecar.expectedSize === remote.sizeBytes;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

async function lockHolder(lockPath: string): Promise<number | null> {
  try {
    const pid = Number(JSON.parse(await readFile(lockPath, 'utf8')).pid);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes `<dest>.part.lock`; a lock left by a dead process is taken over. @throws DownloadError `BUSY`, `IO`. */
async function acquireLock(lockPath: string, destPath: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lockPath, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw fsError(error, `cannot create ${lockPath}`);
    }
    const holder = await lockHolder(lockPath);
    if (holder !== null && isProcessAlive(holder)) {
      throw new DownloadError('BUSY', `${basename(destPath)} is already being downloaded${holder === process.pid ? '' : ` by process ${holder}`}`);
    }
    await rm(lockPath, { force: true });
  }
  throw new DownloadError('BUSY', `${basename(destPath)} is already being downloaded`);
}

async function removePartFiles(destPath: string): Promise<void> {
  const { partPath, sidecarPath } = partPaths(destPath);
  await rm(partPath, { force: true });
  await rm(sidecarPath, { force: true });
}

/**
 * Deletes the partial download of `destPath` (`.part`, sidecar, stale lock), e.g. to cancel a paused download.
 * Missing files are fine.
 * @throws DownloadError `BUSY` while a live process downloads it, `IO` when a file cannot be removed.
 */
export async function discardPartialDownload(destPath: string): Promise<void> {
  const { lockPath } = partPaths(destPath);
  const holder = await lockHolder(lockPath);
  if (holder !== null && isProcessAlive(holder)) throw new DownloadError('BUSY', `${basename(destPath)} is being downloaded; pause or cancel it first`);
  try {
    await removePartFiles(destPath);
    await rm(lockPath, { force: true });
  } catch (error) {
    throw fsError(error, `cannot remove the partial download of ${destPath}`);
  }
}

/**
 * The partial downloads in `modelsDir` (its own files and two folder levels down, the `<org>/<repo>/` layout):
 * every readable `<file>.part.json` sidecar, with the current size of its `.part`. Sorted by path. Never throws:
 * an unreadable folder or sidecar is skipped.
 */
export async function listPartialDownloads(modelsDir: string): Promise<PartialDownload[]> {
  const found: PartialDownload[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory() && depth < 2 && !entry.name.startsWith('.')) await walk(full, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.part.json')) {
        const sidecar = await readSidecar(full);
        if (sidecar === null) continue;
        const destPath = full.slice(0, -'.part.json'.length);
        const partPath = `${destPath}.part`;
        found.push({ ...sidecar, destPath, partPath, sidecarPath: full, downloadedBytes: (await sizeOf(partPath)) ?? 0 });
      }
    }
  };
  await walk(resolve(modelsDir), 0);
  return found.sort((a, b) => a.destPath.localeCompare(b.destPath));
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

class ProgressMeter {
  private last = 0;
  private samples: { t: number; bytes: number }[] = [];
  constructor(
    private readonly intervalMs: number,
    private readonly callback: ((p: DownloadProgress) => void) | undefined,
  ) {}

  report(downloaded: number, total: number | null, resumedFrom: number, force = false): void {
    if (!this.callback) return;
    const now = performance.now();
    this.samples.push({ t: now, bytes: downloaded });
    while (this.samples.length > 2 && now - this.samples[1]!.t > 5000) this.samples.shift();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const bytesPerSecond = dt > 0.05 ? Math.max(0, (downloaded - first.bytes) / dt) : 0;
    const etaMs = total !== null && bytesPerSecond > 0 ? Math.max(0, ((total - downloaded) / bytesPerSecond) * 1000) : total === downloaded ? 0 : null;
    try {
      this.callback({ downloadedBytes: downloaded, totalBytes: total, bytesPerSecond, etaMs, resumedFromBytes: resumedFrom });
    } catch {
      // A failing progress callback must not break the download.
    }
  }

  /** Forget the speed history (after a restart from byte 0). */
  reset(): void {
    this.samples = [];
  }
}

// ---------------------------------------------------------------------------------------------
// The download
// ---------------------------------------------------------------------------------------------

/** Internal: how the caller stopped the download. */
interface StopControl {
  signal: AbortSignal;
  mode: () => AbortMode;
}

/** An HTTP failure worth retrying, with the server's `Retry-After` when it gave one. */
class RetryableHttpError extends DownloadError {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super('NETWORK', message);
  }
}

function retryAfterMs(response: Response): number | null {
  const value = response.headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 60_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - Date.now()), 60_000);
}

function abortedError(control: StopControl, destPath: string, bytes: number, total: number | null): DownloadError {
  if (control.mode() === 'cancel') return new DownloadError('ABORTED', `download of ${basename(destPath)} cancelled`);
  return new DownloadError('ABORTED', `download of ${basename(destPath)} paused at ${bytes}${total !== null ? ` of ${total}` : ''} bytes; run it again to resume`);
}

/**
 * Downloads an already resolved file to `destPath` (see the module comment for every step).
 *
 * @throws DownloadError `EXISTS`, `DISK_FULL`, `BUSY`, `NOT_FOUND`, `AUTH`, `NETWORK`, `CORRUPT`, `BAD_INPUT`
 *   (not a GGUF), `IO`, `ABORTED`.
 */
async function downloadResolved(
  resolved: ResolvedSource,
  destPath: string,
  options: PullOptions & { hub: HubConfig },
  control: StopControl,
): Promise<DownloadResult> {
  const { remote } = resolved;
  const hub = options.hub;
  const { partPath, sidecarPath, lockPath } = partPaths(destPath);
  const callerSha = normalizeSha(options.expectedSha256);
  if (callerSha !== null && remote.sha256 !== null && callerSha !== remote.sha256) {
    // A catalog made before the file was re-uploaded: refuse before any byte rather than after all of them.
    throw new DownloadError('CORRUPT', `the file on the Hub is not the expected one (sha256 ${remote.sha256}, expected ${callerSha}): nothing was downloaded`);
  }
  const expectedSha = callerSha ?? remote.sha256;
  let expectedSize = remote.sizeBytes;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const meter = new ProgressMeter(options.progressIntervalMs ?? 100, options.onProgress);
  const checkAborted = (bytes: number) => {
    if (control.signal.aborted) throw abortedError(control, destPath, bytes, expectedSize);
  };

  // 1. The destination must not hold a different file; the same file is returned as is.
  const existing = await stat(destPath).catch(() => null);
  if (existing !== null) {
    const same = async (): Promise<string | null> => {
      if (!existing.isFile() || (expectedSize !== null && existing.size !== expectedSize)) return null;
      if (expectedSha === null && expectedSize === null) return null;
      const sha = await sha256OfFile(destPath);
      return expectedSha === null || sha === expectedSha ? sha : null;
    };
    const sha = await same();
    if (sha === null) throw new DownloadError('EXISTS', `${destPath} already exists and is a different file; move it away or delete it first`);
    return { path: destPath, sizeBytes: existing.size, sha256: sha, verified: expectedSha !== null, resumedFromBytes: 0, source: resolved.canonical, alreadyPresent: true };
  }

  // 2. What can be resumed (read only; read again under the lock).
  const resumableBytes = async (): Promise<number> => {
    const sidecar = await readSidecar(sidecarPath);
    const partSize = await sizeOf(partPath);
    if (sidecar === null || partSize === null || partSize === 0) return 0;
    if (!sidecarMatches(sidecar, remote, expectedSha)) return 0;
    if (expectedSize !== null && partSize > expectedSize) return 0;
    return partSize;
  };
  let offset = await resumableBytes();

  // 3. Free space for the rest of the file plus a margin, before anything is written.
  if (expectedSize !== null) {
    const margin = options.diskMarginBytes ?? DEFAULT_DISK_MARGIN_BYTES;
    const needed = expectedSize - offset + margin;
    const free = await (options.freeBytes ?? statfsFreeBytes)(await nearestExistingDir(dirname(destPath)));
    if (free !== null && free < needed) throw new DownloadError('DISK_FULL', `not enough disk space: needs ${formatGiB(needed)}, ${formatGiB(free)} free`);
  }
  checkAborted(0);

  // 4. Folder and lock.
  try {
    await mkdir(dirname(destPath), { recursive: true });
  } catch (error) {
    throw fsError(error, `cannot create ${dirname(destPath)}`);
  }
  await acquireLock(lockPath, destPath);
  let fh: FileHandle | null = null;
  let keepPart = true;
  try {
    offset = await resumableBytes();
    if (offset === 0) {
      await removePartFiles(destPath);
      await writeSidecar(sidecarPath, {
        version: 1,
        source: resolved.canonical,
        url: remote.url,
        expectedSize,
        sha256: expectedSha,
        etag: remote.etag,
        startedAt: new Date().toISOString(),
      }).catch((error: unknown) => {
        throw fsError(error, `cannot write ${sidecarPath}`);
      });
    }

    // 5. Hash what is already there.
    const hash = createHash('sha256');
    if (offset > 0) {
      try {
        await hashFilePrefix(partPath, hash, offset);
      } catch (error) {
        throw fsError(error, `cannot read ${partPath}`);
      }
    }
    try {
      fh = await open(partPath, 'a+');
    } catch (error) {
      throw fsError(error, `cannot open ${partPath}`);
    }
    let runningHash = hash;
    let resumedFrom = offset;
    let magicChecked = false;
    const restartFromZero = async () => {
      await fh!.truncate(0);
      runningHash = createHash('sha256');
      offset = 0;
      resumedFrom = 0;
      magicChecked = false;
      meter.reset();
    };
    const checkMagic = async () => {
      if (magicChecked || offset < GGUF_MAGIC.length) return;
      const head = Buffer.alloc(GGUF_MAGIC.length);
      await fh!.read(head, 0, head.length, 0);
      magicChecked = true;
      if (!head.equals(GGUF_MAGIC)) {
        keepPart = false;
        throw new DownloadError('BAD_INPUT', `not a GGUF file: ${resolved.canonical} starts with ${JSON.stringify(head.toString('latin1'))}`);
      }
    };
    try {
      await checkMagic(); // a resumed .part is checked again: its first session may have died before checking
    } catch (error) {
      throw fsError(error, `cannot read ${partPath}`);
    }
    meter.report(offset, expectedSize, resumedFrom, true);

    // 6. Transfer, with retries.
    let url = remote.downloadUrl;
    let failures = 0;
    let reresolved = false;
    for (;;) {
      checkAborted(offset);
      if (expectedSize !== null && offset === expectedSize) break;
      const attempt = new AbortController();
      const signal = AbortSignal.any([control.signal, attempt.signal]);
      let stallTimer: NodeJS.Timeout | null = null;
      const armStall = () => {
        if (stallTimer !== null) clearTimeout(stallTimer);
        stallTimer = setTimeout(() => attempt.abort(new DownloadError('NETWORK', `no data for ${Math.round(stallTimeoutMs / 1000)} s`)), stallTimeoutMs);
      };
      let progressed = false;
      let complete = false;
      try {
        armStall();
        const headers: Record<string, string> = {};
        if (offset > 0) {
          headers.Range = `bytes=${offset}-`;
          if (remote.ifRange !== null) headers['If-Range'] = remote.ifRange;
        }
        const { response, url: finalUrl } = await fetchFollowingRedirects(url, { method: 'GET', headers, signal }, hub);
        const what = resolved.canonical;
        if (response.status === 206) {
          const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(response.headers.get('content-range')?.trim() ?? '');
          const start = m ? Number(m[1]) : NaN;
          const total = m && m[3] !== '*' ? Number(m[3]) : null;
          if (start !== offset) {
            await response.body?.cancel().catch(() => undefined);
            await restartFromZero();
            throw new DownloadError('NETWORK', `the server answered a range request with bytes from ${Number.isNaN(start) ? '?' : start}; restarting from 0`);
          }
          if (total !== null && expectedSize !== null && total !== expectedSize) {
            await response.body?.cancel().catch(() => undefined);
            keepPart = false;
            throw new DownloadError('NETWORK', `the remote file changed during the download (${total} bytes, expected ${expectedSize}); run it again`);
          }
          if (expectedSize === null && total !== null) expectedSize = total;
        } else if (response.status === 200) {
          if (offset > 0) await restartFromZero(); // the server ignored Range (or If-Range said the file changed)
          const length = Number(response.headers.get('content-length') ?? NaN);
          if (Number.isSafeInteger(length) && expectedSize !== null && length !== expectedSize) {
            await response.body?.cancel().catch(() => undefined);
            keepPart = false;
            throw new DownloadError('NETWORK', `the remote file changed during the download (${length} bytes, expected ${expectedSize}); run it again`);
          }
          if (expectedSize === null && Number.isSafeInteger(length)) expectedSize = length;
        } else {
          await response.body?.cancel().catch(() => undefined);
          if (response.status === 416 && offset > 0) {
            await restartFromZero();
            throw new DownloadError('NETWORK', 'the server refused the range (HTTP 416); restarting from 0');
          }
          const fromCdn = new URL(finalUrl).host !== new URL(hub.endpoint).host || remote.url !== url;
          if ([401, 403, 410].includes(response.status) && fromCdn && !reresolved) {
            // A signed CDN link that expired: ask the original URL again for a fresh one.
            reresolved = true;
            const fresh = await probeRemoteFile(remote.url, what, hub, control.signal);
            if ((expectedSha !== null && fresh.sha256 !== null && fresh.sha256 !== expectedSha) || (expectedSize !== null && fresh.sizeBytes !== null && fresh.sizeBytes !== expectedSize)) {
              keepPart = false;
              throw new DownloadError('NETWORK', 'the remote file changed during the download; run it again');
            }
            url = fresh.downloadUrl;
            continue;
          }
          if (isRetryableStatus(response.status)) throw new RetryableHttpError(httpStatusError(response, what, hub).message, retryAfterMs(response));
          throw httpStatusError(response, what, hub);
        }

        // The body: append, hash, report.
        if (response.body === null) throw new DownloadError('NETWORK', 'empty response body');
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          armStall();
          if (chunk.length === 0) continue;
          if (expectedSize !== null && offset + chunk.length > expectedSize) {
            keepPart = false;
            throw new DownloadError('CORRUPT', `downloaded file is corrupt (the server sent more than the expected ${expectedSize} bytes)`);
          }
          try {
            await fh.write(chunk);
          } catch (error) {
            throw fsError(error, `writing ${partPath}`);
          }
          runningHash.update(chunk);
          offset += chunk.length;
          progressed = true;
          await checkMagic();
          meter.report(offset, expectedSize, resumedFrom);
        }
        if (expectedSize !== null && offset < expectedSize) throw new DownloadError('NETWORK', `connection closed at ${offset} of ${expectedSize} bytes`);
        complete = true;
      } catch (error) {
        if (control.signal.aborted) throw abortedError(control, destPath, offset, expectedSize);
        const retryable =
          !(error instanceof DownloadError) || // undici's "terminated", socket errors, the stall abort
          error.code === 'NETWORK';
        const fatalNetwork = error instanceof DownloadError && error.code === 'NETWORK' && !keepPart;
        if (!retryable || fatalNetwork) throw error;
        if (progressed) {
          failures = 0;
          reresolved = false;
        }
        failures++;
        const reason = error instanceof DownloadError ? error.message : describeStreamError(error, attempt.signal);
        if (failures >= policy.tries) {
          throw new DownloadError('NETWORK', `download failed after ${policy.tries} tries in a row: ${reason}`, { cause: error });
        }
        const wait = Math.max(backoffDelayMs(failures, policy), error instanceof RetryableHttpError ? (error.retryAfterMs ?? 0) : 0);
        try {
          await sleep(wait, control.signal);
        } catch {
          throw abortedError(control, destPath, offset, expectedSize);
        }
        continue;
      } finally {
        if (stallTimer !== null) clearTimeout(stallTimer);
      }
      if (complete) break;
    }

    // 7. Verify, then move into place.
    if (!magicChecked) {
      await checkMagic();
      if (!magicChecked) {
        keepPart = false;
        throw new DownloadError('BAD_INPUT', `not a GGUF file: ${resolved.canonical} is only ${offset} bytes`);
      }
    }
    meter.report(offset, expectedSize, resumedFrom, true);
    if (expectedSize !== null && offset !== expectedSize) {
      keepPart = false;
      throw new DownloadError('CORRUPT', `downloaded file is corrupt (size mismatch: expected ${expectedSize} bytes, got ${offset})`);
    }
    const sha = runningHash.digest('hex');
    if (expectedSha !== null && sha !== expectedSha) {
      keepPart = false;
      throw new DownloadError('CORRUPT', `downloaded file is corrupt (sha256 mismatch: expected ${expectedSha}, got ${sha})`);
    }
    try {
      await fh.sync();
      await fh.close();
      fh = null;
      await moveIntoPlace(partPath, destPath);
      await rm(sidecarPath, { force: true });
    } catch (error) {
      throw fsError(error, `cannot move the download to ${destPath}`);
    }
    return { path: destPath, sizeBytes: offset, sha256: sha, verified: expectedSha !== null, resumedFromBytes: resumedFrom, source: resolved.canonical, alreadyPresent: false };
  } catch (error) {
    if (error instanceof DownloadError && error.code === 'ABORTED' && control.mode() === 'cancel') keepPart = false;
    throw error instanceof DownloadError ? error : fsError(error, `downloading ${basename(destPath)}`);
  } finally {
    await fh?.close().catch(() => undefined);
    if (!keepPart) await removePartFiles(destPath).catch(() => undefined);
    await rm(lockPath, { force: true }).catch(() => undefined);
  }
}

function describeStreamError(error: unknown, attemptSignal: AbortSignal): string {
  if (attemptSignal.aborted && attemptSignal.reason instanceof DownloadError) return attemptSignal.reason.message;
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${base} (${cause.code})` : base;
}

/**
 * Moves the finished `.part` to `dest` without replacing anything: a hard link (fails with EEXIST when `dest`
 * exists) then unlink; where hard links are unsupported (FAT, some network drives), check then rename.
 * @throws DownloadError `EXISTS` when `dest` appeared meanwhile (the verified `.part` is kept).
 */
async function moveIntoPlace(partPath: string, destPath: string): Promise<void> {
  try {
    await link(partPath, destPath);
    await unlink(partPath);
    return;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw new DownloadError('EXISTS', `${destPath} appeared during the download; the verified copy is kept as ${partPath}`);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EMLINK', 'EINVAL'].includes(errnoCode(error) ?? '')) throw error;
  }
  if ((await stat(destPath).catch(() => null)) !== null) {
    throw new DownloadError('EXISTS', `${destPath} appeared during the download; the verified copy is kept as ${partPath}`);
  }
  await rename(partPath, destPath);
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Starts pulling `input` (any form {@link parseModelSource} accepts) and returns at once with a handle to
 * await, pause or cancel it.
 *
 * Order: parse → resolve metadata (tree for `:QUANT`, then HEAD) → `onResolved` → download (see the module
 * comment). `options.signal` stops it the way `options.onAbort` says (default `pause`).
 *
 * @throws never synchronously; `result` rejects with a {@link DownloadError}.
 */
export function startPull(input: string, options: PullOptions): PullHandle {
  const controller = new AbortController();
  let mode: AbortMode = options.onAbort ?? 'pause';
  const stop = (m: AbortMode) => {
    if (controller.signal.aborted) return;
    mode = m;
    controller.abort(new DownloadError('ABORTED', m === 'cancel' ? 'cancelled' : 'paused'));
  };
  const onExternalAbort = () => stop(options.onAbort ?? 'pause');
  if (options.signal?.aborted) onExternalAbort();
  else options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  const control: StopControl = { signal: controller.signal, mode: () => mode };

  const run = async (): Promise<DownloadResult> => {
    if (options.modelsDir === undefined && options.destPath === undefined) throw new DownloadError('BAD_INPUT', 'no models folder or destination given');
    const hub = options.hub ?? hubConfigFromEnv(options.env ?? process.env);
    const source = parseModelSource(input, { endpoint: hub.endpoint });
    let resolved: ResolvedSource;
    try {
      resolved = await resolveModelSource(source, hub, controller.signal);
    } catch (error) {
      if (controller.signal.aborted) throw new DownloadError('ABORTED', `pull of ${input} ${mode === 'cancel' ? 'cancelled' : 'stopped before it started'}`);
      throw error;
    }
    const destPath = options.destPath !== undefined ? resolve(options.destPath) : destinationFor(options.modelsDir!, resolved.source);
    const expectedSha = normalizeSha(options.expectedSha256) ?? resolved.remote.sha256;
    options.onResolved?.({ source: resolved.canonical, destPath, sizeBytes: resolved.remote.sizeBytes, sha256: expectedSha });
    try {
      return await downloadResolved(resolved, destPath, { ...options, hub }, control);
    } catch (error) {
      // A cancel that came before the download took its lock still deletes an older `.part`.
      if (error instanceof DownloadError && error.code === 'ABORTED' && mode === 'cancel') await discardPartialDownload(destPath).catch(() => undefined);
      throw error;
    }
  };
  const result = run().finally(() => options.signal?.removeEventListener('abort', onExternalAbort));
  return { result, pause: () => stop('pause'), cancel: () => stop('cancel') };
}

/**
 * Pulls `input` into `options.modelsDir` (or `options.destPath`) and resolves with the verified file. See
 * {@link startPull}; abort through `options.signal` (+ `options.onAbort`).
 * @throws DownloadError (any code).
 */
export function pullModel(input: string, options: PullOptions): Promise<DownloadResult> {
  return startPull(input, options).result;
}

// ---------------------------------------------------------------------------------------------
// Download manager
// ---------------------------------------------------------------------------------------------

/** State of a job in the {@link DownloadManager}. */
export type DownloadJobState = 'queued' | 'active' | 'paused' | 'done' | 'failed' | 'cancelled';

/** One job of the {@link DownloadManager} (a snapshot; the manager emits a new one on every change). */
export interface DownloadJob {
  /** Stable id (`dl-1`, `dl-2`, …). */
  id: string;
  /** What was asked (URI or URL). */
  input: string;
  state: DownloadJobState;
  /** Destination, once resolved (or known from a restored partial download); null before. */
  destPath: string | null;
  /** Canonical source once resolved; null before. */
  source: string | null;
  /** Latest progress; null before the first report. */
  progress: DownloadProgress | null;
  /** The result when `done`. */
  result: DownloadResult | null;
  /** The error when `failed`: code and one-line message. */
  error: { code: DownloadError['code']; message: string } | null;
}

/** Events of the {@link DownloadManager}: `change` on every state change, `progress` (throttled) while active. */
export interface DownloadManagerEvents {
  change: [job: DownloadJob];
  progress: [job: DownloadJob];
}

/**
 * A queue of pulls with one active download at a time, for the app's Downloads panel. Plain Node.
 *
 * `add` queues a pull; `pause` stops a queued or active job keeping its `.part` (state `paused`); `resume`
 * queues it again (it continues from the `.part`); `cancel` stops it and deletes its `.part` (state
 * `cancelled`). `restorePartials` adds the partial downloads found in the models folder as paused jobs, so
 * downloads survive an app restart. Jobs run in the order they were (re)queued.
 */
export class DownloadManager extends EventEmitter<DownloadManagerEvents> {
  private readonly jobsById = new Map<string, DownloadJob>();
  private readonly queue: string[] = [];
  private active: { id: string; handle: PullHandle } | null = null;
  private nextId = 1;
  private idleWaiters: (() => void)[] = [];
  /** Expected SHA-256 per job id, when the caller knew one. */
  private readonly expected = new Map<string, string>();

  /** @param options Options for every pull (`modelsDir` is required; `signal`, `onProgress`, `onResolved` are the manager's). */
  constructor(private readonly options: Omit<PullOptions, 'signal' | 'onProgress' | 'onResolved' | 'onAbort' | 'destPath'> & { modelsDir: string }) {
    super();
  }

  /** Every job, oldest first (snapshots). */
  jobs(): DownloadJob[] {
    return [...this.jobsById.values()].map((j) => ({ ...j }));
  }

  /** One job (a snapshot), or null. */
  get(id: string): DownloadJob | null {
    const job = this.jobsById.get(id);
    return job ? { ...job } : null;
  }

  /**
   * Queues a pull of `input` and returns its job. `expectedSha256` (a catalog's) is checked besides the
   * Hub's own.
   */
  add(input: string, options: { expectedSha256?: string | null } = {}): DownloadJob {
    const job: DownloadJob = { id: `dl-${this.nextId++}`, input, state: 'queued', destPath: null, source: null, progress: null, result: null, error: null };
    this.jobsById.set(job.id, job);
    if (options.expectedSha256) this.expected.set(job.id, options.expectedSha256);
    this.queue.push(job.id);
    this.changed(job);
    this.pump();
    return { ...job };
  }

  /**
   * Adds each partial download of the models folder ({@link listPartialDownloads}) as a paused job, unless a
   * job already targets it. Returns the jobs added.
   */
  async restorePartials(): Promise<DownloadJob[]> {
    const added: DownloadJob[] = [];
    for (const partial of await listPartialDownloads(this.options.modelsDir)) {
      if ([...this.jobsById.values()].some((j) => j.destPath === partial.destPath && !['done', 'cancelled', 'failed'].includes(j.state))) continue;
      const job: DownloadJob = {
        id: `dl-${this.nextId++}`,
        input: partial.source,
        state: 'paused',
        destPath: partial.destPath,
        source: partial.source,
        progress: { downloadedBytes: partial.downloadedBytes, totalBytes: partial.expectedSize, bytesPerSecond: 0, etaMs: null, resumedFromBytes: partial.downloadedBytes },
        result: null,
        error: null,
      };
      this.jobsById.set(job.id, job);
      this.changed(job);
      added.push({ ...job });
    }
    return added;
  }

  /** Pauses a queued or active job (keeps its `.part`). False when the job is not queued/active. */
  pause(id: string): boolean {
    const job = this.jobsById.get(id);
    if (!job || (job.state !== 'queued' && job.state !== 'active')) return false;
    if (this.active?.id === id) this.active.handle.pause();
    else this.dequeue(id);
    job.state = 'paused';
    this.changed(job);
    return true;
  }

  /** Queues a paused or failed job again. False otherwise. */
  resume(id: string): boolean {
    const job = this.jobsById.get(id);
    if (!job || (job.state !== 'paused' && job.state !== 'failed')) return false;
    job.state = 'queued';
    job.error = null;
    this.queue.push(id);
    this.changed(job);
    this.pump();
    return true;
  }

  /**
   * Cancels a job that is not finished and deletes its partial download. Resolves false when the job is done,
   * cancelled or unknown.
   * @throws DownloadError `BUSY`/`IO` from {@link discardPartialDownload} for a paused job's files.
   */
  async cancel(id: string): Promise<boolean> {
    const job = this.jobsById.get(id);
    if (!job || job.state === 'done' || job.state === 'cancelled') return false;
    job.state = 'cancelled';
    if (this.active?.id === id) {
      const handle = this.active.handle;
      handle.cancel();
      await handle.result.catch(() => undefined);
    } else {
      this.dequeue(id);
    }
    // Also when the job was paused just before (its download then kept the files).
    if (job.destPath !== null) await discardPartialDownload(job.destPath);
    this.changed(job);
    return true;
  }

  /** Resolves when no job is active or queued. */
  idle(): Promise<void> {
    if (this.active === null && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private dequeue(id: string): void {
    const i = this.queue.indexOf(id);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private changed(job: DownloadJob): void {
    this.emit('change', { ...job });
  }

  private pump(): void {
    if (this.active !== null) return;
    const id = this.queue.shift();
    if (id === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const job = this.jobsById.get(id)!;
    job.state = 'active';
    job.error = null;
    this.changed(job);
    const expectedSha256 = this.expected.get(id);
    const handle = startPull(job.input, {
      ...this.options,
      ...(expectedSha256 ? { expectedSha256 } : {}),
      ...(job.destPath !== null ? { destPath: job.destPath } : {}),
      onResolved: (info) => {
        job.destPath = info.destPath;
        job.source = info.source;
        this.changed(job);
      },
      onProgress: (progress) => {
        job.progress = progress;
        this.emit('progress', { ...job });
      },
    });
    this.active = { id, handle };
    handle.result.then(
      (result) => {
        job.state = 'done';
        job.result = result;
      },
      (error: unknown) => {
        const e = error instanceof DownloadError ? error : new DownloadError('IO', String(error));
        if (e.code === 'ABORTED') {
          // pause() / cancel() already set the state.
          if (job.state === 'active') job.state = 'paused';
        } else {
          job.state = 'failed';
          job.error = { code: e.code, message: e.message };
        }
      },
    ).finally(() => {
      this.active = null;
      this.changed(job);
      this.pump();
    });
  }
}
