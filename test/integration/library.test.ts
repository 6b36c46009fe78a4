/**
 * The model library through the backend (real SQLite, real files, a loopback Hub): models other apps
 * downloaded are listed in place with their source and reach the governor, and each source can be turned
 * off; the catalog is offered with predicted costs and installed copies recognized; the recommended
 * ladder; downloads stream progress events, finish verified and appear in the model list and the
 * governor, survive a restart as paused jobs and resume; a catalog checksum that differs from the Hub's
 * is refused before any byte; only files in our own folder can be deleted; the CLI lists sources.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ApiEvent, DownloadJob } from '../../shared/contract.js';
import type { Backend } from '../../electron/core/backend.js';
import type { GovernorPowerInput } from '../../electron/core/governorService.js';
import { loadModelCatalog } from '../../electron/models/modelCatalog.js';
import { FakeHub, readBytes, sha256 } from '../helpers/fakeHub.js';
import { repoRoot, testModel } from '../helpers/models.js';
import { openTestBackend, ok, tempDir } from '../helpers/runtime.js';
import { writeMixedLibrary } from '../fixtures/sparse/library.js';

const onAc: GovernorPowerInput = { onAc: true, batteryPercent: null, batteryCapacityWh: null, batteryEnergyWh: null, baselinePowerW: 6 };

/** Resolves with the job once a `downloads.changed` event shows it in one of `states`. */
function jobReaches(backend: Backend, id: () => string | null, states: DownloadJob['state'][], timeoutMs = 60_000): Promise<{ job: DownloadJob; events: DownloadJob[] }> {
  const events: DownloadJob[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`download did not reach ${states.join('/')}`)), timeoutMs);
    const off = backend.onEvent((e: ApiEvent) => {
      if (e.type !== 'downloads.changed' || e.job.id !== id()) return;
      events.push(e.job);
      if (states.includes(e.job.state)) {
        clearTimeout(timer);
        off();
        resolve({ job: e.job, events });
      }
    });
  });
}

describe('model library', () => {
  const tmp = tempDir('wattwise-library-');
  const home = join(tmp.dir, 'home');
  const modelsDir = join(tmp.dir, 'models');
  let hub: FakeHub;
  const stories = readBytes(testModel('stories260K.gguf'));
  const tiny656 = readBytes(testModel('TinyStories-656K-Q8_0.gguf'));

  const open = (dataDir: string, extra: Partial<Parameters<typeof openTestBackend>[0]> = {}): Promise<Backend> =>
    openTestBackend({
      dataDir,
      modelsDirOverride: modelsDir,
      telemetry: false,
      powerStateOverride: onAc,
      measureBandwidth: () => 20e9,
      discovery: { home, env: {}, platform: 'linux' },
      env: { HF_ENDPOINT: hub.endpoint },
      overrides: { threads: 1 },
      ...extra,
    });

  before(async () => {
    mkdirSync(modelsDir, { recursive: true });
    // Other apps' downloads in a fixture home: LM Studio (publisher/repo), Ollama (manifest + blob), the HF cache (snapshot → blob symlink).
    const lms = join(home, '.lmstudio', 'models', 'karpathy', 'tinyllamas');
    mkdirSync(lms, { recursive: true });
    copyFileSync(testModel('stories260K.gguf'), join(lms, 'stories260K.gguf'));
    const ollama = join(home, '.ollama', 'models');
    const digest = sha256(tiny656);
    mkdirSync(join(ollama, 'blobs'), { recursive: true });
    copyFileSync(testModel('TinyStories-656K-Q8_0.gguf'), join(ollama, 'blobs', `sha256-${digest}`));
    const manifestDir = join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'tinystories');
    mkdirSync(manifestDir, { recursive: true });
    writeFileSync(
      join(manifestDir, 'latest'),
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}`, size: tiny656.length }] }),
    );
    const hf = join(home, '.cache', 'huggingface', 'hub', 'models--test--random');
    mkdirSync(join(hf, 'blobs'), { recursive: true });
    mkdirSync(join(hf, 'snapshots', 'abc123'), { recursive: true });
    mkdirSync(join(hf, 'refs'), { recursive: true });
    writeFileSync(join(hf, 'refs', 'main'), 'abc123');
    copyFileSync(testModel('llama-2-tiny-random.gguf'), join(hf, 'blobs', 'deadbeef'));
    symlinkSync('../../blobs/deadbeef', join(hf, 'snapshots', 'abc123', 'llama-2-tiny-random.gguf'));
    hub = await FakeHub.start([
      { repo: 'test/tiny', path: 'stories260K.gguf', bytes: stories },
      { repo: 'test/tiny', path: 'TinyStories-656K-Q8_0.gguf', bytes: tiny656 },
    ]);
  });
  after(async () => {
    await hub?.close();
    tmp.cleanup();
  });

  test("other apps' models are listed in place with their source, reach the governor, and a source can be turned off", async () => {
    const backend = await open(join(tmp.dir, 'data-discovery'));
    try {
      const list = ok(await backend.request('models.list', {}));
      const bySource = new Map(list.map((m) => [m.source, m]));
      assert.equal(bySource.get('lmstudio')?.appName, 'karpathy/tinyllamas');
      assert.equal(bySource.get('ollama')?.appName, 'tinystories:latest');
      assert.equal(bySource.get('ollama')?.usable, true);
      assert.equal(bySource.get('huggingface-cache')?.appName, 'test/random');
      const decision = ok(await backend.request('governor.decide', {}));
      assert.ok(decision.candidates.some((c) => c.modelPath === bySource.get('ollama')!.path), 'the governor sees the Ollama blob');
      const status = ok(await backend.request('library.status', {}));
      assert.equal(status.sources.find((s) => s.source === 'lmstudio')?.found, 1);
      assert.ok(status.sources.find((s) => s.source === 'ollama')!.folders[0]!.startsWith(home));
      // Turn Ollama off: gone from the list and the governor.
      const settings = ok(await backend.request('settings.get', {}));
      ok(await backend.request('settings.update', { modelSources: { ...settings.modelSources, ollama: false } }));
      const after = ok(await backend.request('models.list', {}));
      assert.ok(!after.some((m) => m.source === 'ollama'));
      assert.ok(after.some((m) => m.source === 'lmstudio'));
      // Another app's file can never be deleted from Wattwise.
      const foreign = await backend.request('models.delete', { modelPath: bySource.get('lmstudio')!.path });
      assert.equal(foreign.ok ? null : foreign.error.code, 'BAD_INPUT');
      assert.ok(existsSync(bySource.get('lmstudio')!.path));
      // Outside the folder, an existing file, a missing one and a non-model all get one answer.
      const answers = await Promise.all(
        [join(tmp.dir, 'nowhere', 'x.gguf'), bySource.get('lmstudio')!.path, '/etc/passwd', join(modelsDir, '..', 'escape.gguf')].map(async (p) => {
          const r = await backend.request('models.delete', { modelPath: p });
          return r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`;
        }),
      );
      assert.equal(new Set(answers).size, 1, answers.join(' | '));
    } finally {
      await backend.dispose();
    }
  });

  test('the catalog is offered with predicted costs; an installed copy is recognized; the ladder is recommended', async () => {
    // A sparse copy of a catalog file with the catalog's exact name and size counts as installed.
    const entry = loadModelCatalog().entries.find((e) => e.id === 'qwen2.5-3b-instruct-q4_k_m')!;
    const [sparse] = await writeMixedLibrary(join(tmp.dir, 'sparse'), {
      specs: (await import('../fixtures/sparse/library.js')).MIXED_LIBRARY.filter((s) => s.fileName === 'Qwen2.5-3B-Instruct-Q4_K_M.gguf'),
    });
    const installed = join(modelsDir, entry.file);
    copyFileSync(sparse!.path, installed);
    truncateSync(installed, entry.sizeBytes);
    const backend = await open(join(tmp.dir, 'data-catalog'), { discovery: false });
    try {
      const { offers } = ok(await backend.request('library.catalog', {}));
      assert.equal(offers.length, loadModelCatalog().entries.length);
      for (const o of offers) {
        assert.ok(o.predicted.decodeTokensPerSecond > 0 && o.predicted.energyJPerToken > 0 && o.memoryBytes > o.entry.sizeBytes, o.entry.id);
        assert.match(o.uri, /^hf:[^/]+\/[^/]+\/.+\.gguf$/);
      }
      assert.equal(offers.find((o) => o.entry.id === entry.id)?.installedPath, installed);
      assert.equal(offers.find((o) => o.entry.id === 'qwen2.5-7b-instruct-q4_k_m')?.qualitySource, 'published');
      const ladder = ok(await backend.request('library.recommend', {}));
      assert.ok(ladder.rungs.length >= 2, JSON.stringify(ladder.rungs.map((r) => r.offer.entry.id)));
      assert.equal(new Set(ladder.rungs.map((r) => r.offer.entry.id)).size, ladder.rungs.length);
      const notInstalled = ladder.rungs.filter((r) => r.offer.installedPath === null);
      assert.equal(ladder.downloadBytes, notInstalled.reduce((s, r) => s + r.offer.entry.sizeBytes, 0));
      assert.ok(ladder.freeDiskBytes === null || ladder.freeDiskBytes > 0);
    } finally {
      await backend.dispose();
    }
  });

  test('a download streams progress, finishes verified, and the model appears in the list and the governor; delete removes it', async () => {
    hub.reset();
    hub.knobs.throttle = { chunkBytes: 64 * 1024, intervalMs: 20 };
    const backend = await open(join(tmp.dir, 'data-download'), { discovery: false });
    try {
      let id: string | null = null;
      const done = jobReaches(backend, () => id, ['done', 'failed']);
      const changed = new Promise<void>((resolve) => {
        const off = backend.onEvent((e) => {
          if (e.type === 'models.changed') {
            off();
            resolve();
          }
        });
      });
      id = ok(await backend.request('downloads.start', { source: 'hf:test/tiny/stories260K.gguf' })).id;
      const { job, events } = await done;
      assert.equal(job.state, 'done', JSON.stringify(job.error));
      assert.equal(job.result?.verified, true);
      assert.equal(job.result?.sha256, sha256(stories));
      assert.ok(events.some((e) => e.state === 'active' && (e.progress?.downloadedBytes ?? 0) > 0 && e.progress!.downloadedBytes < stories.length), 'progress in between');
      await changed;
      const path = job.result!.path;
      assert.equal(path, join(modelsDir, 'test', 'tiny', 'stories260K.gguf'));
      const list = ok(await backend.request('models.list', {}));
      assert.ok(list.some((m) => m.path === path && m.source === 'models-folder' && m.usable));
      assert.ok(ok(await backend.request('governor.decide', {})).candidates.some((c) => c.modelPath === path));
      assert.ok(ok(await backend.request('downloads.list', {})).some((j) => j.id === id && j.state === 'done'));
      const deleted = ok(await backend.request('models.delete', { modelPath: path }));
      assert.deepEqual(deleted, { deleted: true, freedBytes: stories.length });
      assert.ok(!existsSync(path));
      assert.ok(!existsSync(join(modelsDir, 'test')), 'the empty repo folders are removed too');
      const missing = await backend.request('models.delete', { modelPath: path });
      assert.equal(missing.ok ? null : missing.error.code, 'NOT_FOUND');
      const bad = await backend.request('downloads.start', { source: 'not a model source' });
      assert.equal(bad.ok ? null : bad.error.code, 'BAD_INPUT');
    } finally {
      await backend.dispose();
    }
  });

  test('a catalog checksum that differs from the Hub’s is refused before any byte', async () => {
    hub.reset();
    const backend = await open(join(tmp.dir, 'data-sha'), { discovery: false });
    try {
      let id: string | null = null;
      const done = jobReaches(backend, () => id, ['done', 'failed']);
      id = ok(await backend.request('downloads.start', { source: 'hf:test/tiny/TinyStories-656K-Q8_0.gguf', sha256: 'a'.repeat(64) })).id;
      const { job } = await done;
      assert.equal(job.state, 'failed');
      assert.equal(job.error?.code, 'CORRUPT');
      assert.match(job.error!.message, /not the expected one/);
      assert.equal(hub.byteRequests().length, 0);
      assert.ok(!existsSync(join(modelsDir, 'test', 'tiny', 'TinyStories-656K-Q8_0.gguf')));
    } finally {
      await backend.dispose();
    }
  });

  test('a paused download survives a restart as a paused job and resumes from its partial file', async () => {
    hub.reset();
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 30 };
    const dataDir = join(tmp.dir, 'data-restart');
    const first = await open(dataDir, { discovery: false });
    let partialBytes = 0;
    try {
      let id: string | null = null;
      const progressed = new Promise<void>((resolve) => {
        const off = first.onEvent((e) => {
          if (e.type === 'downloads.changed' && e.job.id === id && (e.job.progress?.downloadedBytes ?? 0) > 100_000) {
            off();
            resolve();
          }
        });
      });
      id = ok(await first.request('downloads.start', { source: 'hf:test/tiny/stories260K.gguf' })).id;
      await progressed;
      const paused = ok(await first.request('downloads.pause', { id }));
      assert.equal(paused.state, 'paused');
      partialBytes = paused.progress?.downloadedBytes ?? 0;
    } finally {
      await first.dispose();
    }
    hub.knobs.throttle = null;
    const second = await open(dataDir, { discovery: false });
    try {
      const jobs = ok(await second.request('downloads.list', {}));
      const restored = jobs.find((j) => j.source === 'hf:test/tiny/stories260K.gguf');
      assert.ok(restored, 'the partial download is listed after the restart');
      assert.equal(restored.state, 'paused');
      assert.ok((restored.progress?.downloadedBytes ?? 0) > 0);
      const done = jobReaches(second, () => restored.id, ['done', 'failed']);
      ok(await second.request('downloads.resume', { id: restored.id }));
      const { job } = await done;
      assert.equal(job.state, 'done', JSON.stringify(job.error));
      assert.ok((job.result?.resumedFromBytes ?? 0) > 0 && job.result!.resumedFromBytes >= Math.min(partialBytes, 100_000));
      assert.equal(job.result?.sha256, sha256(stories));
      const ranged = hub.byteRequests().filter((r) => r.range !== null);
      assert.ok(ranged.some((r) => /^bytes=[1-9]\d*-/.test(r.range!)), 'the second process asked for the rest with Range');
    } finally {
      await second.dispose();
    }
  });

  test('CLI: models --json lists other apps’ models with their source', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'electron/cli/main.ts'), 'models', '--models-dir', modelsDir, '--data-dir', join(tmp.dir, 'data-cli'), '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: home, OLLAMA_MODELS: '', HF_HOME: '', HF_HUB_CACHE: '', XDG_DATA_HOME: '', XDG_CACHE_HOME: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { models: Array<{ source: string; appName: string | null }> };
    const sources = new Set(out.models.map((m) => m.source));
    for (const s of ['lmstudio', 'ollama', 'huggingface-cache']) assert.ok(sources.has(s), `${s} in ${[...sources].join(', ')}`);
    const table = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'electron/cli/main.ts'), 'models', '--models-dir', modelsDir, '--data-dir', join(tmp.dir, 'data-cli')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: home, OLLAMA_MODELS: '', HF_HOME: '', HF_HUB_CACHE: '', XDG_DATA_HOME: '', XDG_CACHE_HOME: '' },
    });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /SOURCE/);
    assert.match(table.stdout, /Ollama \(tinystories:latest\)/);
  });
});
