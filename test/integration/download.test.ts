/**
 * Model downloads against a loopback Hub (test/helpers/fakeHub.ts) serving the kit's real GGUF files: the
 * library (pullModel / startPull / DownloadManager) and the CLI (`models pull`, spawned through
 * test/helpers/pullMain.ts so it can be killed and started again). Never touches the real Hub.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';
import { FakeHub, readBytes, sha256 } from '../helpers/fakeHub.js';
import {
  DownloadError,
  DownloadManager,
  listPartialDownloads,
  partPaths,
  pullModel,
  startPull,
  type DownloadJob,
  type DownloadProgress,
  type PullOptions,
} from '../../electron/models/download/index.js';

const REPO = 'ggml-org/tiny-GGUF';
const F32_FILE = 'stories260K-F32.gguf';
const Q8_FILE = 'TinyStories-656K-Q8_0.gguf';
const stories = readBytes(testModel('stories260K.gguf'));
const q8 = readBytes(testModel('TinyStories-656K-Q8_0.gguf'));
/** Published sha256s of the kit's files (../shared/models/SOURCES.md). */
const STORIES_SHA = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';
const Q8_SHA = 'c773a9eb8883751131f30e0c1965c56b1102a4972fdac6a6f71fe156ba6d8cb7';

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

async function rejectsWith(promise: Promise<unknown>, code: DownloadError['code'], message?: RegExp): Promise<DownloadError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    assert.ok(!error.message.includes('\n'), 'one-line message');
    return error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('model downloads (loopback Hub)', () => {
  let hub: FakeHub;
  const tmp = tempDir('wattwise-download-');
  let n = 0;
  /** A fresh models folder per test. */
  const freshDir = () => join(tmp.dir, `models-${++n}`);
  const opts = (modelsDir: string, extra: Partial<PullOptions> = {}): PullOptions => ({
    modelsDir,
    hub: { endpoint: hub.endpoint, token: null },
    retry: { initialDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });

  before(async () => {
    hub = await FakeHub.start([
      { repo: REPO, path: F32_FILE, bytes: stories },
      { repo: REPO, path: Q8_FILE, bytes: q8 },
      // A vision projector with the same quantization: the :Q8_0 pick must skip it.
      { repo: REPO, path: 'mmproj-tiny-Q8_0.gguf', bytes: Buffer.from('GGUF-not-a-model') },
    ]);
  });
  beforeEach(() => hub.reset());
  after(async () => {
    await hub.close();
    tmp.cleanup();
  });

  test('the fake Hub serves the kit files with their published sha256', () => {
    assert.equal(sha256(stories), STORIES_SHA);
    assert.equal(sha256(q8), Q8_SHA);
  });

  test('hf: file downloads to <models>/<org>/<repo>/<file>, byte-identical, sha256 verified, throttled progress', async () => {
    const dir = freshDir();
    hub.knobs.throttle = { chunkBytes: 64 * 1024, intervalMs: 40 }; // ≈ 0.75 s, so there is progress to throttle
    const progress: DownloadProgress[] = [];
    const started = performance.now();
    const result = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir, { onProgress: (p) => progress.push(p) }));
    const elapsedMs = performance.now() - started;
    const dest = join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE);
    assert.deepEqual(result, {
      path: dest,
      sizeBytes: stories.length,
      sha256: STORIES_SHA,
      verified: true,
      resumedFromBytes: 0,
      source: `hf:${REPO}/${F32_FILE}`,
      alreadyPresent: false,
    });
    assert.ok(readFileSync(dest).equals(stories), 'byte-identical to the served file');
    assert.deepEqual(filesUnder(dir), [join('ggml-org', 'tiny-GGUF', F32_FILE)], 'no .part, sidecar or lock left');
    // Metadata first (HEAD on resolve, no redirect followed for the sha256), then one GET from the CDN.
    assert.ok(hub.requests.some((r) => r.method === 'HEAD' && r.url.includes('/resolve/main/')));
    assert.equal(hub.byteRequests().length, 1);
    // Progress: monotonic, ends at the total, at most ~10 per second.
    assert.ok(progress.length >= 3, `${progress.length} progress reports`);
    assert.ok(progress.length <= elapsedMs / 100 + 3, `${progress.length} reports in ${Math.round(elapsedMs)} ms`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.downloadedBytes >= progress[i - 1]!.downloadedBytes);
    assert.deepEqual(
      { ...progress.at(-1)!, bytesPerSecond: 0 },
      { downloadedBytes: stories.length, totalBytes: stories.length, bytesPerSecond: 0, etaMs: 0, resumedFromBytes: 0 },
    );
    assert.ok(progress.some((p) => p.bytesPerSecond > 0 && p.etaMs !== null && p.etaMs > 0), 'speed and ETA while running');
  });

  test('hf:<org>/<repo>:<QUANT> picks the file with that quantization (case-insensitive) from the tree', async () => {
    const dir = freshDir();
    const result = await pullModel(`hf:${REPO}:q8_0`, opts(dir));
    assert.equal(result.path, join(dir, 'ggml-org', 'tiny-GGUF', Q8_FILE));
    assert.equal(result.sha256, Q8_SHA);
    assert.equal(result.source, `hf:${REPO}/${Q8_FILE}`);
    assert.ok(hub.requests.some((r) => r.url.startsWith(`/api/models/${REPO}/tree/main`)), 'listed the tree');
    await rejectsWith(pullModel(`hf:${REPO}:Q4_K_M`, opts(dir)), 'NOT_FOUND', /^ggml-org\/tiny-GGUF: no \.gguf file with quantization Q4_K_M \(available: F32, Q8_0\)$/);
  });

  test('a connection dropped mid-file is resumed with Range and completes', async () => {
    const dir = freshDir();
    hub.knobs.dropAfterBytes = 400_000;
    hub.knobs.dropMode = 'once';
    const result = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    assert.equal(result.sha256, STORIES_SHA);
    assert.ok(readFileSync(result.path).equals(stories));
    const ranges = hub.byteRequests().map((r) => r.range);
    assert.equal(ranges.length, 2, JSON.stringify(ranges));
    assert.equal(ranges[0], null);
    const m = /^bytes=(\d+)-$/.exec(ranges[1] ?? '');
    assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= 400_000, `second request ${ranges[1]}`);
  });

  test('a server that keeps dropping fails with NETWORK after the retries, keeps the .part, and a later pull resumes it', async () => {
    const dir = freshDir();
    hub.knobs.dropAfterBytes = 100_000;
    hub.knobs.dropMode = 'once';
    // Once the first response has delivered bytes, every later one is cut before its first byte: no progress.
    const failing = pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir, {
      retry: { tries: 3, initialDelayMs: 10, maxDelayMs: 20 },
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.downloadedBytes > 0) {
          hub.knobs.dropAfterBytes = 0;
          hub.knobs.dropMode = 'always';
        }
      },
    }));
    await rejectsWith(failing, 'NETWORK', /download failed after 3 tries in a row/);
    const { partPath, sidecarPath } = partPaths(join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE));
    const kept = statSync(partPath).size;
    assert.ok(kept > 0 && kept < stories.length, `part has ${kept} bytes`);
    assert.ok(existsSync(sidecarPath));
    const [partial] = await listPartialDownloads(dir);
    assert.equal(partial?.downloadedBytes, kept);
    assert.equal(partial?.sha256, STORIES_SHA);

    hub.reset();
    const result = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    assert.equal(result.resumedFromBytes, kept);
    assert.equal(result.sha256, STORIES_SHA);
    assert.deepEqual(hub.byteRequests().map((r) => r.range), [`bytes=${kept}-`]);
    assert.deepEqual(await listPartialDownloads(dir), []);
  });

  test('a server that ignores Range (200) makes the download restart from 0, still verified', async () => {
    const dir = freshDir();
    hub.knobs.dropAfterBytes = 300_000;
    hub.knobs.ignoreRange = true;
    const result = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    assert.equal(result.sha256, STORIES_SHA);
    assert.equal(result.resumedFromBytes, 0);
    assert.ok(readFileSync(result.path).equals(stories));
    assert.match(hub.byteRequests()[1]?.range ?? '', /^bytes=\d+-$/, 'it did ask for a range');
  });

  test('a corrupted copy is refused: CORRUPT, and no .gguf, .part or sidecar is left', async () => {
    const dir = freshDir();
    hub.knobs.corruptByteAt = 500_000;
    const error = await rejectsWith(pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir)), 'CORRUPT');
    assert.match(error.message, new RegExp(`^downloaded file is corrupt \\(sha256 mismatch: expected ${STORIES_SHA}, got [0-9a-f]{64}\\)$`));
    assert.deepEqual(filesUnder(dir), []);
  });

  test('not enough disk space is refused before any byte is requested, and nothing is written', async () => {
    const dir = freshDir();
    const probed: string[] = [];
    const freeBytes = async (d: string) => {
      probed.push(d);
      return 10 * 1024 * 1024; // 10 MiB: less than the file + the 64 MiB margin
    };
    await rejectsWith(pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir, { freeBytes })), 'DISK_FULL', /^not enough disk space: needs 0\.06\d GiB, 0\.0098 GiB free$/);
    assert.equal(probed.length, 1);
    assert.deepEqual(hub.byteRequests(), []);
    assert.equal(existsSync(dir), false, 'not even the folder was created');
    // With room for it (and a small margin), the same pull goes through.
    const ok = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir, { freeBytes: async () => stories.length + 1024, diskMarginBytes: 1024 }));
    assert.equal(ok.verified, true);
  });

  test('pause keeps .part + sidecar (listed as partial), a later pull resumes; cancel deletes them', async () => {
    const dir = freshDir();
    const dest = join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE);
    const { partPath, sidecarPath, lockPath } = partPaths(dest);
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 20 };

    let got = 0;
    const paused = startPull(`hf:${REPO}/${F32_FILE}`, opts(dir, { onProgress: (p) => (got = p.downloadedBytes), progressIntervalMs: 0 }));
    await waitFor(() => got >= 100_000, 20_000, 'some bytes');
    paused.pause();
    await rejectsWith(paused.result, 'ABORTED', /paused at \d+ of 1185376 bytes/);
    const kept = statSync(partPath).size;
    assert.ok(kept > 0 && kept < stories.length);
    assert.ok(existsSync(sidecarPath));
    assert.equal(existsSync(lockPath), false, 'lock released');
    assert.equal(existsSync(dest), false);
    const partials = await listPartialDownloads(dir);
    assert.deepEqual(
      partials.map((p) => ({ destPath: p.destPath, downloadedBytes: p.downloadedBytes, source: p.source, expectedSize: p.expectedSize })),
      [{ destPath: dest, downloadedBytes: kept, source: `hf:${REPO}/${F32_FILE}`, expectedSize: stories.length }],
    );

    // Resume, then cancel: .part and sidecar are gone.
    hub.reset();
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 20 };
    let resumedFrom = -1;
    got = 0;
    const cancelled = startPull(`hf:${REPO}/${F32_FILE}`, opts(dir, { onProgress: (p) => ((got = p.downloadedBytes), (resumedFrom = p.resumedFromBytes)), progressIntervalMs: 0 }));
    await waitFor(() => got > kept, 20_000, 'more bytes');
    assert.equal(resumedFrom, kept, 'the second session resumed from the .part');
    assert.equal(hub.byteRequests()[0]?.range, `bytes=${kept}-`);
    cancelled.cancel();
    await rejectsWith(cancelled.result, 'ABORTED', /cancelled/);
    assert.deepEqual(filesUnder(dir), []);
    assert.deepEqual(await listPartialDownloads(dir), []);
  });

  test('abort through a signal: pause by default, cancel with onAbort: "cancel"', async () => {
    for (const onAbort of ['pause', 'cancel'] as const) {
      const dir = freshDir();
      hub.reset();
      hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 20 };
      const controller = new AbortController();
      const pulled = pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir, { signal: controller.signal, onAbort, progressIntervalMs: 0, onProgress: (p) => p.downloadedBytes > 50_000 && controller.abort() }));
      await rejectsWith(pulled, 'ABORTED');
      const { partPath } = partPaths(join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE));
      assert.equal(existsSync(partPath), onAbort === 'pause', `${onAbort}: .part ${onAbort === 'pause' ? 'kept' : 'deleted'}`);
    }
  });

  test('a .part of another remote file (sidecar sha256 differs) is not resumed: the download restarts from 0', async () => {
    const dir = freshDir();
    const dest = join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE);
    const { partPath, sidecarPath } = partPaths(dest);
    mkdirSync(join(dir, 'ggml-org', 'tiny-GGUF'), { recursive: true });
    writeFileSync(partPath, q8.subarray(0, 200_000));
    writeFileSync(sidecarPath, JSON.stringify({ version: 1, source: `hf:${REPO}/${F32_FILE}`, url: 'x', expectedSize: stories.length, sha256: Q8_SHA, etag: Q8_SHA, startedAt: new Date().toISOString() }));
    const result = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    assert.equal(result.resumedFromBytes, 0);
    assert.equal(result.sha256, STORIES_SHA);
    assert.deepEqual(hub.byteRequests().map((r) => r.range), [null]);
    assert.deepEqual(filesUnder(dir), [join('ggml-org', 'tiny-GGUF', F32_FILE)]);
  });

  test('an existing destination: the same file is returned without downloading, a different one is never overwritten', async () => {
    const dir = freshDir();
    const first = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    hub.reset();
    const again = await pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir));
    assert.deepEqual(again, { ...first, alreadyPresent: true });
    assert.deepEqual(hub.byteRequests(), []);

    writeFileSync(first.path, 'something else entirely');
    await rejectsWith(pullModel(`hf:${REPO}/${F32_FILE}`, opts(dir)), 'EXISTS', /already exists and is a different file/);
    assert.equal(readFileSync(first.path, 'utf8'), 'something else entirely');
  });

  test('plain URL: <models>/<file>, verified only with an expected sha256, which must match', async () => {
    const url = hub.addPlain('/files/Plain-Model-Q8_0.gguf', q8);
    const dir = freshDir();
    const plain = await pullModel(url, opts(dir));
    assert.equal(plain.path, join(dir, 'Plain-Model-Q8_0.gguf'));
    assert.equal(plain.verified, false);
    assert.equal(plain.sha256, Q8_SHA);

    const dir2 = freshDir();
    const checked = await pullModel(url, opts(dir2, { expectedSha256: Q8_SHA.toUpperCase() }));
    assert.equal(checked.verified, true);

    const dir3 = freshDir();
    await rejectsWith(pullModel(url, opts(dir3, { expectedSha256: STORIES_SHA })), 'CORRUPT', /sha256 mismatch/);
    assert.deepEqual(filesUnder(dir3), []);

    // Something that is not a GGUF file is refused and removed.
    const html = hub.addPlain('/files/login.gguf', Buffer.from('<!doctype html><p>please log in</p>'));
    const dir4 = freshDir();
    await rejectsWith(pullModel(html, opts(dir4)), 'BAD_INPUT', /not a GGUF file/);
    assert.deepEqual(filesUnder(dir4), []);
  });

  test('missing repo, revision and file are NOT_FOUND', async () => {
    const dir = freshDir();
    await rejectsWith(pullModel('hf:nobody/missing-GGUF:Q4_K_M', opts(dir)), 'NOT_FOUND', /repository not found/);
    await rejectsWith(pullModel(`hf:${REPO}:Q8_0#v9`, opts(dir)), 'NOT_FOUND', /revision not found/);
    await rejectsWith(pullModel(`hf:${REPO}/nope.gguf`, opts(dir)), 'NOT_FOUND', /file not found/);
    assert.deepEqual(filesUnder(dir), []);
  });

  test('HF_TOKEN goes to the Hub host only, never to the CDN; without it a gated repo is AUTH', async () => {
    hub.knobs.requireToken = 'hf_secret';
    await rejectsWith(pullModel(`hf:${REPO}:Q8_0`, opts(freshDir())), 'AUTH', /gated repo/);
    hub.reset();
    hub.knobs.requireToken = 'hf_secret';
    const result = await pullModel(`hf:${REPO}:Q8_0`, opts(freshDir(), { hub: { endpoint: hub.endpoint, token: 'hf_secret' } }));
    assert.equal(result.verified, true);
    const hubHost = new URL(hub.endpoint).host;
    const cdnHost = new URL(hub.cdnEndpoint).host;
    assert.ok(hub.requests.filter((r) => r.host === hubHost).every((r) => r.authorization === 'Bearer hf_secret'));
    const cdn = hub.requests.filter((r) => r.host === cdnHost);
    assert.ok(cdn.length > 0);
    assert.ok(cdn.every((r) => r.authorization === null), 'no token to the CDN');
  });

  test('DownloadManager: one download at a time, in order, with events; pause/resume/cancel; restores partials', async () => {
    const dir = freshDir();
    const manager = new DownloadManager({ modelsDir: dir, hub: { endpoint: hub.endpoint, token: null }, retry: { initialDelayMs: 20 } });
    const changes: DownloadJob[] = [];
    manager.on('change', (j) => changes.push(j));
    let maxActive = 0;
    manager.on('change', () => (maxActive = Math.max(maxActive, manager.jobs().filter((j) => j.state === 'active').length)));
    const a = manager.add(`hf:${REPO}/${F32_FILE}`);
    const b = manager.add(`hf:${REPO}:Q8_0`);
    await manager.idle();
    assert.deepEqual(manager.jobs().map((j) => [j.id, j.state]), [[a.id, 'done'], [b.id, 'done']]);
    assert.equal(maxActive, 1);
    const activeOrder = [...new Set(changes.filter((c) => c.state === 'active').map((c) => c.id))];
    assert.ok(changes.some((c) => c.id === a.id && c.state === 'active' && c.destPath === join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE)), 'destPath once resolved');
    assert.deepEqual(activeOrder, [a.id, b.id]);
    assert.equal(manager.get(b.id)?.result?.sha256, Q8_SHA);

    // Pause a running job, restore it in a new manager (an app restart), resume it there.
    const dir2 = freshDir();
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 20 };
    const m1 = new DownloadManager({ modelsDir: dir2, hub: { endpoint: hub.endpoint, token: null } });
    const job = m1.add(`hf:${REPO}/${F32_FILE}`);
    await waitFor(() => (m1.get(job.id)?.progress?.downloadedBytes ?? 0) > 50_000, 20_000, 'progress');
    assert.equal(m1.pause(job.id), true);
    await m1.idle();
    assert.equal(m1.get(job.id)?.state, 'paused');

    hub.knobs.throttle = null;
    const m2 = new DownloadManager({ modelsDir: dir2, hub: { endpoint: hub.endpoint, token: null } });
    const [restored] = await m2.restorePartials();
    assert.equal(restored?.state, 'paused');
    assert.ok((restored?.progress?.downloadedBytes ?? 0) > 0);
    assert.equal(m2.resume(restored!.id), true);
    await m2.idle();
    const done = m2.get(restored!.id)!;
    assert.equal(done.state, 'done');
    assert.ok((done.result?.resumedFromBytes ?? 0) > 0);
    assert.equal(done.result?.sha256, STORIES_SHA);

    // Cancel a paused job: its files go.
    const dir3 = freshDir();
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 20 };
    const m3 = new DownloadManager({ modelsDir: dir3, hub: { endpoint: hub.endpoint, token: null } });
    const j3 = m3.add(`hf:${REPO}/${F32_FILE}`);
    await waitFor(() => (m3.get(j3.id)?.progress?.downloadedBytes ?? 0) > 50_000, 20_000, 'progress');
    m3.pause(j3.id);
    await m3.idle();
    assert.ok(filesUnder(dir3).some((f) => f.endsWith('.part')));
    assert.equal(await m3.cancel(j3.id), true);
    assert.equal(m3.get(j3.id)?.state, 'cancelled');
    assert.deepEqual(filesUnder(dir3), []);
  });

  // ------------------------------------------------------------------------------------------
  // The CLI
  // ------------------------------------------------------------------------------------------

  interface Run {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }

  /** Spawns `models pull …` (through pullMain.ts) against the fake Hub; `onSpawn` gets the child. */
  function pull(args: string[], env: Record<string, string> = {}, onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, HF_ENDPOINT: hub.endpoint, ...env };
    delete childEnv.HF_TOKEN;
    delete childEnv.WATTWISE_MODELS_DIR;
    if (!('WATTWISE_TEST_FREE_BYTES' in env)) delete childEnv.WATTWISE_TEST_FREE_BYTES;
    const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'helpers', 'pullMain.ts'), ...args], { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    onSpawn?.(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`pull ${args.join(' ')} timed out\n${stderr}`));
      }, 120_000);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      });
    });
  }

  const oneLine = (text: string) => {
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 1, `exactly one stderr line, got: ${text}`);
    return lines[0]!;
  };

  test('CLI --json prints exactly one JSON document on stdout', async () => {
    const dir = freshDir();
    const r = await pull([`hf:${REPO}:Q8_0`, '--models-dir', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.deepEqual(JSON.parse(lines[0]!), {
      path: join(dir, 'ggml-org', 'tiny-GGUF', Q8_FILE),
      sizeBytes: q8.length,
      sha256: Q8_SHA,
      verified: true,
      resumedFromBytes: 0,
    });
    assert.match(r.stderr, /Saved .*sha256 verified/);
  });

  test('CLI killed with SIGKILL mid-download resumes from the .part when started again', async () => {
    const dir = freshDir();
    const dest = join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE);
    const { partPath, sidecarPath } = partPaths(dest);
    hub.knobs.throttle = { chunkBytes: 8 * 1024, intervalMs: 20 }; // ≈ 400 kB/s: ~3 s for the file
    const partSize = () => (existsSync(partPath) ? statSync(partPath).size : 0);
    const killed = await pull([`hf:${REPO}/${F32_FILE}`, '--models-dir', dir], {}, (child) => {
      void waitFor(() => partSize() >= 64 * 1024, 60_000, '.part bytes').then(() => child.kill('SIGKILL'));
    });
    assert.equal(killed.signal, 'SIGKILL');
    const kept = partSize();
    assert.ok(kept > 0 && kept < stories.length, `.part has ${kept} bytes`);
    assert.ok(existsSync(sidecarPath));
    assert.equal(existsSync(dest), false);

    hub.reset();
    const r = await pull([`hf:${REPO}/${F32_FILE}`, '--models-dir', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.resumedFromBytes > 0, `resumedFromBytes ${out.resumedFromBytes}`);
    assert.equal(out.sha256, STORIES_SHA);
    assert.equal(out.verified, true);
    const ranges = hub.byteRequests().map((q) => q.range);
    assert.deepEqual(ranges, [`bytes=${out.resumedFromBytes}-`]);
    assert.ok(readFileSync(dest).equals(stories));
    assert.deepEqual(filesUnder(dir), [join('ggml-org', 'tiny-GGUF', F32_FILE)]);
  });

  test('CLI SIGINT pauses: exit 130, .part kept', async () => {
    const dir = freshDir();
    const { partPath } = partPaths(join(dir, 'ggml-org', 'tiny-GGUF', F32_FILE));
    hub.knobs.throttle = { chunkBytes: 8 * 1024, intervalMs: 20 };
    const r = await pull([`hf:${REPO}/${F32_FILE}`, '--models-dir', dir], {}, (child) => {
      void waitFor(() => existsSync(partPath) && statSync(partPath).size > 32 * 1024, 60_000, '.part bytes').then(() => child.kill('SIGINT'));
    });
    assert.equal(r.status, 130, r.stderr);
    assert.match(oneLine(r.stderr), /^wattwise: download of .* paused at \d+ of \d+ bytes/);
    assert.ok(statSync(partPath).size > 0);
  });

  test('CLI refuses a corrupted copy: exit 1, one stderr line, no .gguf and no .part left', async () => {
    const dir = freshDir();
    hub.knobs.corruptByteAt = 123_456;
    const r = await pull([`hf:${REPO}/${F32_FILE}`, '--models-dir', dir, '--json']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(oneLine(r.stderr), /^wattwise: downloaded file is corrupt \(sha256 mismatch: expected 270cba1b[0-9a-f]+, got [0-9a-f]{64}\)$/);
    assert.deepEqual(filesUnder(dir).filter((f) => /\.gguf$|\.part/.test(f)), []);
  });

  test('CLI refuses when the disk is too full (WATTWISE_TEST_FREE_BYTES) before requesting any byte', async () => {
    const dir = freshDir();
    const r = await pull([`hf:${REPO}/${F32_FILE}`, '--models-dir', dir], { WATTWISE_TEST_FREE_BYTES: '1000' });
    assert.equal(r.status, 1);
    assert.match(oneLine(r.stderr), /^wattwise: not enough disk space: needs 0\.064 GiB, < 0\.001 GiB free$/);
    assert.deepEqual(hub.byteRequests(), []);
    assert.deepEqual(filesUnder(dir), []);
  });

  test('CLI: a repo that does not exist is exit 1 with one line; bad usage is exit 2', async () => {
    const dir = freshDir();
    const missing = await pull(['hf:nobody/missing-GGUF:Q4_K_M', '--models-dir', dir]);
    assert.equal(missing.status, 1);
    assert.match(oneLine(missing.stderr), /^wattwise: nobody\/missing-GGUF: repository not found \(HTTP 404\)$/);

    for (const args of [[], ['hf:org'], ['hf:org/repo:Q4', 'extra'], ['hf:org/repo:Q4', '--bogus']]) {
      const r = await pull(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^wattwise: /);
    }
  });
});
