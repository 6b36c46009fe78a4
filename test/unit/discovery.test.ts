/**
 * Discovery of other apps' GGUF models, on fixture homes built here in a temp folder: LM Studio (new and old
 * folder, home pointer, custom models folder), Ollama (manifests + blobs, shared blobs, other namespaces and
 * registries, bad manifests, OLLAMA_MODELS), the Hugging Face cache (snapshot links into blobs, refs/main,
 * HF_HUB_CACHE / HF_HOME), GPT4All and Jan; the folders per platform; and that nothing in the fixture is
 * changed. Model files are links to (or copies of) the team kit's tiny models.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  discoverModelFiles,
  externalModelSources,
  isDiscoverableModelFileName,
  sourceFolders,
  type DiscoveredModelFile,
  type DiscoveryOptions,
} from '../../electron/models/discovery.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');
const tiny656 = testModel('TinyStories-656K-Q8_0.gguf');
const random = testModel('llama-2-tiny-random.gguf');

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Writes `text` at `file`, creating its folders. */
function write(file: string, text: string | Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
/** A symbolic link at `file` pointing to `target`, creating its folders. */
function link(target: string, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  symlinkSync(target, file);
}
function copy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** An Ollama manifest (schemaVersion 2) whose model layer has `digest`, as `ollama pull` writes it. */
function ollamaManifest(digest: string | null): string {
  const layers = [
    ...(digest == null ? [] : [{ mediaType: 'application/vnd.ollama.image.model', digest, size: 1234 }]),
    { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'d'.repeat(64)}`, size: 42 },
    { mediaType: 'application/vnd.ollama.image.license', digest: `sha256:${'e'.repeat(64)}`, size: 7 },
  ];
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 487 },
    layers,
  });
}

/** Every entry under `root` (not following links) with what a change would show: type, size, mode, mtime, ctime, link target. */
function snapshotTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = lstatSync(full);
      const kind = st.isSymbolicLink() ? `link→${readlinkSync(full)}` : st.isDirectory() ? 'dir' : st.isFIFO() ? 'fifo' : 'file';
      out.push(`${full.slice(root.length)} ${kind} ${st.size} ${st.mode} ${st.mtimeMs} ${st.ctimeMs}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out;
}

/** Results sorted the way discoverModelFiles promises: source order, then path. */
function sorted(list: DiscoveredModelFile[]): DiscoveredModelFile[] {
  const order = (s: DiscoveredModelFile['source']) => externalModelSources.indexOf(s);
  return [...list].sort((a, b) => order(a.source) - order(b.source) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const entry = (source: DiscoveredModelFile['source'], path: string, appName: string | null, problem: string | null = null): DiscoveredModelFile => ({
  source,
  path,
  appName,
  problem,
});

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wattwise-discovery-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('a Linux home with every app', () => {
  let home: string;
  let opts: DiscoveryOptions;
  let beforeTree: string[];
  const expected: DiscoveredModelFile[] = [];
  const hexStories = sha256(stories);
  const hexTiny = sha256(tiny656);
  const hexRandom = sha256(random);
  const hexMissing = 'f'.repeat(64);
  const rev1 = '1'.repeat(40);
  const rev0 = '0'.repeat(40);
  const revGpt2 = 'a'.repeat(40);

  before(() => {
    home = join(tmp, 'home');
    mkdirSync(home);
    opts = { home, env: {}, platform: 'linux' };

    // LM Studio, current folder: <publisher>/<repo>/<file>.gguf
    const lm = join(home, '.lmstudio', 'models');
    const repo = join(lm, 'lmstudio-community', 'Stories-GGUF');
    link(stories, join(repo, 'stories260K.gguf'));
    link(stories, join(repo, 'mmproj-model-f16.gguf')); // vision projector: skipped
    link(stories, join(repo, 'big-00001-of-00002.gguf'));
    link(stories, join(repo, 'big-00002-of-00002.gguf')); // later split part: skipped
    link(stories, join(repo, '.hidden.gguf')); // hidden: skipped
    write(join(repo, 'README.md'), 'not a model');
    link(join(repo, 'gone.gguf'), join(repo, 'broken.gguf')); // dangling link
    symlinkSync('self.gguf', join(repo, 'self.gguf')); // link to itself: ELOOP
    symlinkSync('..', join(repo, 'loop')); // folder link loop: must not be read twice
    link(tiny656, join(lm, 'loose.gguf')); // outside <publisher>/<repo>: no app name
    link(stories, join(lm, 'a', 'b', 'c', 'd', 'four-deep.gguf')); // 4 folders deep: listed
    link(stories, join(lm, 'a', 'b', 'c', 'd', 'e', 'five-deep.gguf')); // 5 deep: beyond the limit
    expected.push(
      entry('lmstudio', join(repo, 'stories260K.gguf'), 'lmstudio-community/Stories-GGUF'),
      entry('lmstudio', join(repo, 'big-00001-of-00002.gguf'), 'lmstudio-community/Stories-GGUF'),
      entry('lmstudio', join(repo, 'broken.gguf'), 'lmstudio-community/Stories-GGUF', 'broken link (its target is missing)'),
      entry('lmstudio', join(repo, 'self.gguf'), 'lmstudio-community/Stories-GGUF', 'broken link (loop)'),
      entry('lmstudio', join(lm, 'loose.gguf'), null),
      entry('lmstudio', join(lm, 'a', 'b', 'c', 'd', 'four-deep.gguf'), 'a/b'),
    );
    // LM Studio before 0.3
    const oldLm = join(home, '.cache', 'lm-studio', 'models', 'TheBloke', 'Tiny-GGUF', 'tiny.Q8_0.gguf');
    link(tiny656, oldLm);
    expected.push(entry('lmstudio', oldLm, 'TheBloke/Tiny-GGUF'));

    // Ollama: manifests/<host>/<namespace>/<model>/<tag> → blobs/sha256-<hex>
    const ol = join(home, '.ollama', 'models');
    const manifests = join(ol, 'manifests');
    const blobs = join(ol, 'blobs');
    const lib = join(manifests, 'registry.ollama.ai', 'library');
    copy(stories, join(blobs, `sha256-${hexStories}`));
    copy(tiny656, join(blobs, `sha256-${hexTiny}`));
    copy(random, join(blobs, `sha256-${hexRandom}`));
    write(join(blobs, 'x'), 'a file a traversal digest would reach');
    write(join(lib, 'llama3.2', 'latest'), ollamaManifest(`sha256:${hexStories}`));
    write(join(lib, 'llama3.2', '3b'), ollamaManifest(`sha256:${hexStories}`)); // second tag, same blob
    write(join(manifests, 'registry.ollama.ai', 'someuser', 'custom', 'v1'), ollamaManifest(`sha256:${hexTiny}`));
    write(join(manifests, 'hf.co', 'bartowski', 'Foo-GGUF', 'Q4_K_M'), ollamaManifest(`sha256:${hexRandom}`));
    write(join(lib, 'broken-json', 'latest'), '{"schemaVersion": 2, "layers": [');
    write(join(lib, 'wrong-shape', 'latest'), JSON.stringify({ schemaVersion: 2, layers: 'nope' }));
    write(join(lib, 'huge', 'latest'), ollamaManifest(`sha256:${hexStories}`).padEnd(1024 * 1024 + 1, ' '));
    write(join(lib, 'evil', 'latest'), ollamaManifest('sha256:../../x'));
    write(join(lib, 'evil2', 'latest'), ollamaManifest(`sha256:${'a'.repeat(60)}/../x`));
    write(join(lib, 'missing', 'latest'), ollamaManifest(`sha256:${hexMissing}`));
    write(join(lib, 'cloud', 'latest'), ollamaManifest(null)); // no model layer: skipped
    mkdirSync(join(lib, 'odd', 'latest'), { recursive: true }); // a folder where a manifest should be: skipped
    write(join(lib, 'deep', 'tag', 'extra'), ollamaManifest(`sha256:${hexTiny}`)); // 5 levels: not a manifest
    expected.push(
      entry('ollama', join(blobs, `sha256-${hexStories}`), 'llama3.2:3b, llama3.2:latest'),
      entry('ollama', join(blobs, `sha256-${hexTiny}`), 'someuser/custom:v1'),
      entry('ollama', join(blobs, `sha256-${hexRandom}`), 'hf.co/bartowski/Foo-GGUF:Q4_K_M'),
      entry('ollama', join(lib, 'broken-json', 'latest'), 'broken-json:latest', 'invalid manifest (not JSON)'),
      entry('ollama', join(lib, 'wrong-shape', 'latest'), 'wrong-shape:latest', 'invalid manifest (not an Ollama v2 manifest)'),
      entry('ollama', join(lib, 'huge', 'latest'), 'huge:latest', 'invalid manifest (1048577 bytes; the limit is 1 MiB)'),
      entry('ollama', join(lib, 'evil', 'latest'), 'evil:latest', 'invalid manifest (the model layer digest is not a sha256 digest)'),
      entry('ollama', join(lib, 'evil2', 'latest'), 'evil2:latest', 'invalid manifest (the model layer digest is not a sha256 digest)'),
      entry('ollama', join(blobs, `sha256-${hexMissing}`), 'missing:latest', 'missing blob (the download is incomplete or the blob was removed)'),
    );

    // Hugging Face cache: models--<org>--<repo>/{refs/main, blobs/<hash>, snapshots/<rev>/... → ../../blobs/<hash>}
    const hub = join(home, '.cache', 'huggingface', 'hub');
    const hfRepo = join(hub, 'models--TheOrg--Tiny-GGUF');
    copy(tiny656, join(hfRepo, 'blobs', hexTiny));
    copy(stories, join(hfRepo, 'blobs', hexStories));
    copy(random, join(hfRepo, 'blobs', hexRandom));
    write(join(hfRepo, 'refs', 'main'), rev1);
    const snap1 = join(hfRepo, 'snapshots', rev1);
    const snap0 = join(hfRepo, 'snapshots', rev0);
    link(`../../blobs/${hexTiny}`, join(snap1, 'tiny-q8.gguf'));
    link(`../../../blobs/${hexStories}`, join(snap1, 'sub', 'stories.gguf'));
    link(`../../blobs/${'9'.repeat(64)}`, join(snap1, 'broken.gguf'));
    link(`../../blobs/${'8'.repeat(64)}`, join(snap1, 'flaky.gguf')); // broken in main...
    link(`../../blobs/${hexStories}`, join(snap1, 'mmproj-F16.gguf')); // projector: skipped
    link(`../../blobs/${hexRandom}`, join(snap0, 'tiny-q8.gguf')); // older revision of the same file
    link(`../../blobs/${hexRandom}`, join(snap0, 'old-only.gguf'));
    link(`../../blobs/${hexRandom}`, join(snap0, 'flaky.gguf')); // ...working in the older revision
    const future = new Date(Date.now() + 3600_000);
    utimesSync(snap0, future, future); // newer mtime than main's snapshot: refs/main must still win
    expected.push(
      entry('huggingface-cache', join(snap1, 'tiny-q8.gguf'), 'TheOrg/Tiny-GGUF'),
      entry('huggingface-cache', join(snap1, 'sub', 'stories.gguf'), 'TheOrg/Tiny-GGUF'),
      entry('huggingface-cache', join(snap1, 'broken.gguf'), 'TheOrg/Tiny-GGUF', "broken link (the cache's blob is missing)"),
      entry('huggingface-cache', join(snap0, 'old-only.gguf'), 'TheOrg/Tiny-GGUF'),
      entry('huggingface-cache', join(snap0, 'flaky.gguf'), 'TheOrg/Tiny-GGUF'),
    );
    const gpt2 = join(hub, 'models--gpt2');
    copy(stories, join(gpt2, 'blobs', hexStories));
    link(`../../blobs/${hexStories}`, join(gpt2, 'snapshots', revGpt2, 'gpt2.Q8_0.gguf'));
    expected.push(entry('huggingface-cache', join(gpt2, 'snapshots', revGpt2, 'gpt2.Q8_0.gguf'), 'gpt2'));
    link(stories, join(hub, 'datasets--someone--data', 'snapshots', rev1, 'data.gguf')); // datasets: ignored
    write(join(hub, 'models--Bad--Snapshots', 'snapshots'), 'a file where a folder should be');
    write(join(hub, 'models--Bad--Refs', 'refs', 'main'), '../../../../etc/passwd');
    link(stories, join(hub, 'models--Bad--Refs', 'snapshots', rev1, 'ok.gguf'));
    expected.push(entry('huggingface-cache', join(hub, 'models--Bad--Refs', 'snapshots', rev1, 'ok.gguf'), 'Bad/Refs'));

    // GPT4All: *.gguf directly in ~/.local/share/nomic.ai/GPT4All
    const g4a = join(home, '.local', 'share', 'nomic.ai', 'GPT4All');
    link(stories, join(g4a, 'Meta-Llama-3-8B-Instruct.Q4_0.gguf'));
    write(join(g4a, 'incomplete-Phi-3-mini-4k-instruct.Q4_0.gguf'), 'partial download');
    link(stories, join(g4a, 'sub', 'nested.gguf')); // GPT4All reads only the folder itself
    expected.push(entry('gpt4all', join(g4a, 'Meta-Llama-3-8B-Instruct.Q4_0.gguf'), null));

    // Jan ≥ 0.6: <data>/llamacpp/models/<model id>/model.gguf (+ mmproj.gguf, model.yml); Jan ≤ 0.4: ~/jan/models
    const jan = join(home, '.local', 'share', 'Jan', 'data', 'llamacpp', 'models');
    link(stories, join(jan, 'janhq', 'Jan-v1-4B-GGUF', 'model.gguf'));
    link(stories, join(jan, 'janhq', 'Jan-v1-4B-GGUF', 'mmproj.gguf'));
    write(join(jan, 'janhq', 'Jan-v1-4B-GGUF', 'model.yml'), 'model_path: llamacpp/models/janhq/Jan-v1-4B-GGUF/model.gguf\n');
    link(tiny656, join(jan, 'tiny-local', 'model.gguf'));
    link(random, join(home, 'jan', 'models', 'trinity-v1-7b', 'trinity-v1.Q4_K_M.gguf'));
    expected.push(
      entry('jan', join(jan, 'janhq', 'Jan-v1-4B-GGUF', 'model.gguf'), 'janhq/Jan-v1-4B-GGUF'),
      entry('jan', join(jan, 'tiny-local', 'model.gguf'), 'tiny-local'),
      entry('jan', join(home, 'jan', 'models', 'trinity-v1-7b', 'trinity-v1.Q4_K_M.gguf'), 'trinity-v1-7b'),
    );

    beforeTree = snapshotTree(home);
  });

  test('lists every model with its source, app name, path and problem, and nothing else', async () => {
    const found = await discoverModelFiles(opts);
    assert.deepEqual(found, sorted(expected));
  });

  test('the result is sorted by source, then path', async () => {
    const found = await discoverModelFiles(opts);
    assert.deepEqual(found, sorted(found));
    assert.deepEqual([...new Set(found.map((f) => f.source))], [...externalModelSources]);
  });

  test('Ollama: one entry per blob with every tag; bad manifests listed, never a path outside blobs/', async () => {
    const ollama = (await discoverModelFiles(opts)).filter((f) => f.source === 'ollama');
    const blobsDir = join(home, '.ollama', 'models', 'blobs');
    const manifestsDir = join(home, '.ollama', 'models', 'manifests');
    for (const f of ollama) {
      assert.ok(f.path.startsWith(blobsDir + '/') || f.path.startsWith(manifestsDir + '/'), f.path);
      assert.notEqual(f.path, join(blobsDir, 'x'));
    }
    assert.equal(ollama.filter((f) => f.appName?.includes('llama3.2')).length, 1);
    assert.equal(ollama.filter((f) => f.problem == null).length, 3);
  });

  test('disabled sources are not read', async () => {
    const onlyGpt4All = await discoverModelFiles({ ...opts, disabled: ['lmstudio', 'ollama', 'huggingface-cache', 'jan'] });
    assert.deepEqual(onlyGpt4All, expected.filter((e) => e.source === 'gpt4all'));
    const noOllama = await discoverModelFiles({ ...opts, disabled: ['ollama'] });
    assert.deepEqual(noOllama, sorted(expected.filter((e) => e.source !== 'ollama')));
    assert.deepEqual(await discoverModelFiles({ ...opts, disabled: [...externalModelSources] }), []);
  });

  test('the entry budget bounds each source', async () => {
    const found = await discoverModelFiles({ ...opts, maxEntriesPerSource: 0 });
    assert.deepEqual(found, []);
    const few = await discoverModelFiles({ ...opts, maxEntriesPerSource: 4, disabled: ['ollama', 'huggingface-cache', 'gpt4all', 'jan'] });
    assert.ok(few.length < expected.filter((e) => e.source === 'lmstudio').length, JSON.stringify(few));
  });

  test('nothing in the fixture home was created, changed or removed', async () => {
    await discoverModelFiles(opts);
    assert.deepEqual(snapshotTree(home), beforeTree);
  });
});

describe('environment overrides', () => {
  test('OLLAMA_MODELS replaces ~/.ollama/models (quotes and spaces trimmed)', async () => {
    const home = join(tmp, 'ollama-env-home');
    const store = join(tmp, 'ollama-elsewhere');
    const hex = sha256(tiny656);
    write(join(home, '.ollama', 'models', 'manifests', 'registry.ollama.ai', 'library', 'ignored', 'latest'), ollamaManifest(`sha256:${hex}`));
    copy(tiny656, join(home, '.ollama', 'models', 'blobs', `sha256-${hex}`));
    write(join(store, 'manifests', 'registry.ollama.ai', 'library', 'qwen2.5', '0.5b'), ollamaManifest(`sha256:${hex}`));
    copy(tiny656, join(store, 'blobs', `sha256-${hex}`));
    const env = { OLLAMA_MODELS: ` "${store}" ` };
    assert.deepEqual(sourceFolders('ollama', { home, env, platform: 'linux' }), [store]);
    assert.deepEqual(await discoverModelFiles({ home, env, platform: 'linux' }), [
      entry('ollama', join(store, 'blobs', `sha256-${hex}`), 'qwen2.5:0.5b'),
    ]);
    // Without it, the home store is read.
    assert.deepEqual(await discoverModelFiles({ home, env: {}, platform: 'linux' }), [
      entry('ollama', join(home, '.ollama', 'models', 'blobs', `sha256-${hex}`), 'ignored:latest'),
    ]);
  });

  test('Ollama: a blob still named sha256:<hex> (before the fixblobs rename) is found outside Windows', async () => {
    const store = join(tmp, 'ollama-old-blobs');
    const hex = sha256(stories);
    write(join(store, 'manifests', 'registry.ollama.ai', 'library', 'old', 'latest'), ollamaManifest(`sha256:${hex}`));
    copy(stories, join(store, 'blobs', `sha256:${hex}`));
    const found = await discoverModelFiles({ home: join(tmp, 'no-such-home'), env: { OLLAMA_MODELS: store }, platform: 'linux' });
    assert.deepEqual(found, [entry('ollama', join(store, 'blobs', `sha256:${hex}`), 'old:latest')]);
  });

  test('HF_HUB_CACHE wins over HF_HOME, which wins over ~/.cache/huggingface/hub', async () => {
    const home = join(tmp, 'hf-env-home');
    const makeCache = (hub: string, org: string) => {
      const repo = join(hub, `models--${org}--Model-GGUF`);
      copy(stories, join(repo, 'blobs', 'b1'));
      write(join(repo, 'refs', 'main'), 'b'.repeat(40));
      link('../../blobs/b1', join(repo, 'snapshots', 'b'.repeat(40), 'model.Q8_0.gguf'));
      return join(repo, 'snapshots', 'b'.repeat(40), 'model.Q8_0.gguf');
    };
    const inHome = makeCache(join(home, '.cache', 'huggingface', 'hub'), 'home');
    const hfHome = join(tmp, 'hf-home');
    const viaHfHome = makeCache(join(hfHome, 'hub'), 'hfhome');
    const hubCache = join(tmp, 'hf-hub-cache');
    const viaHubCache = makeCache(hubCache, 'hubcache');
    const only = { disabled: ['lmstudio', 'ollama', 'gpt4all', 'jan'] as const, platform: 'linux' as const, home };

    assert.deepEqual(await discoverModelFiles({ ...only, env: {} }), [entry('huggingface-cache', inHome, 'home/Model-GGUF')]);
    assert.deepEqual(await discoverModelFiles({ ...only, env: { HF_HOME: hfHome } }), [entry('huggingface-cache', viaHfHome, 'hfhome/Model-GGUF')]);
    assert.deepEqual(await discoverModelFiles({ ...only, env: { HF_HOME: hfHome, HF_HUB_CACHE: hubCache } }), [
      entry('huggingface-cache', viaHubCache, 'hubcache/Model-GGUF'),
    ]);
  });

  test('LM Studio: the home pointer and a custom models folder in settings.json', async () => {
    const home = join(tmp, 'lm-pointer-home');
    const lmHome = join(tmp, 'lm-moved');
    const custom = join(tmp, 'lm-custom-models');
    write(join(home, '.lmstudio-home-pointer'), `${lmHome}\n`);
    write(join(lmHome, 'settings.json'), JSON.stringify({ downloadsFolder: custom, other: { nested: true } }));
    link(stories, join(custom, 'pub', 'repo', 'custom.gguf'));
    link(tiny656, join(lmHome, 'models', 'pub', 'repo', 'default.gguf'));
    link(random, join(home, '.lmstudio', 'models', 'pub', 'repo', 'not-read.gguf')); // the pointer moved the home away
    const opts = { home, env: {}, platform: 'linux' as const };
    assert.deepEqual(sourceFolders('lmstudio', opts), [custom, join(lmHome, 'models'), join(home, '.cache', 'lm-studio', 'models')]);
    assert.deepEqual(await discoverModelFiles(opts), [
      entry('lmstudio', join(custom, 'pub', 'repo', 'custom.gguf'), 'pub/repo'),
      entry('lmstudio', join(lmHome, 'models', 'pub', 'repo', 'default.gguf'), 'pub/repo'),
    ]);
  });

  test('LM Studio: an old folder that links to the new one is read once', async () => {
    const home = join(tmp, 'lm-linked-home');
    link(stories, join(home, '.lmstudio', 'models', 'pub', 'repo', 'once.gguf'));
    link(join(home, '.lmstudio'), join(home, '.cache', 'lm-studio'));
    assert.deepEqual(await discoverModelFiles({ home, env: {}, platform: 'linux' }), [
      entry('lmstudio', join(home, '.lmstudio', 'models', 'pub', 'repo', 'once.gguf'), 'pub/repo'),
    ]);
  });
});

describe('awkward homes', () => {
  test('a missing home gives []', async () => {
    assert.deepEqual(await discoverModelFiles({ home: join(tmp, 'no-such-home'), env: {}, platform: 'linux' }), []);
    assert.deepEqual(await discoverModelFiles({ home: 'relative/home', env: {}, platform: 'linux' }), []);
    assert.deepEqual(sourceFolders('gpt4all', { home: 'relative/home', env: {}, platform: 'linux' }), []);
  });

  test('a home that is a file gives []', async () => {
    const home = join(tmp, 'home-is-a-file');
    write(home, 'not a folder');
    assert.deepEqual(await discoverModelFiles({ home, env: {}, platform: 'linux' }), []);
  });

  test('FIFOs where files are expected are never opened (no hang)', { timeout: 20_000 }, async (t) => {
    const home = join(tmp, 'fifo-home');
    const manifest = join(home, '.ollama', 'models', 'manifests', 'registry.ollama.ai', 'library', 'fifo', 'latest');
    mkdirSync(dirname(manifest), { recursive: true });
    mkdirSync(join(home, '.cache', 'huggingface', 'hub', 'models--a--b', 'refs'), { recursive: true });
    const fifos = [manifest, join(home, '.lmstudio-home-pointer'), join(home, '.cache', 'huggingface', 'hub', 'models--a--b', 'refs', 'main')];
    for (const f of fifos) {
      if (spawnSync('mkfifo', [f]).status !== 0) return t.skip('mkfifo is not available');
    }
    link(stories, join(home, '.lmstudio', 'models', 'p', 'r', 'ok.gguf'));
    const found = await discoverModelFiles({ home, env: {}, platform: 'linux' });
    assert.deepEqual(found, [entry('lmstudio', join(home, '.lmstudio', 'models', 'p', 'r', 'ok.gguf'), 'p/r')]);
  });

  test('many files: the count limit stops the walk', async () => {
    const home = join(tmp, 'many-home');
    const folder = join(home, '.local', 'share', 'nomic.ai', 'GPT4All');
    for (let i = 0; i < 30; i++) link(stories, join(folder, `m${String(i).padStart(2, '0')}.gguf`));
    const opts = { home, env: {}, platform: 'linux' as const };
    assert.equal((await discoverModelFiles(opts)).length, 30);
    const limited = await discoverModelFiles({ ...opts, maxEntriesPerSource: 5 });
    assert.deepEqual(limited.map((f) => f.path), [0, 1, 2, 3, 4].map((i) => join(folder, `m0${i}.gguf`)));
  });
});

describe('sourceFolders', () => {
  test('Linux defaults and XDG folders', () => {
    const home = '/home/ann';
    const o = { home, env: {}, platform: 'linux' as const };
    assert.deepEqual(sourceFolders('lmstudio', o), ['/home/ann/.lmstudio/models', '/home/ann/.cache/lm-studio/models']);
    assert.deepEqual(sourceFolders('ollama', o), ['/home/ann/.ollama/models']);
    assert.deepEqual(sourceFolders('huggingface-cache', o), ['/home/ann/.cache/huggingface/hub']);
    assert.deepEqual(sourceFolders('gpt4all', o), ['/home/ann/.local/share/nomic.ai/GPT4All']);
    assert.deepEqual(sourceFolders('jan', o), [
      '/home/ann/.local/share/Jan/data/llamacpp/models',
      '/home/ann/.local/share/Jan/data/models',
      '/home/ann/jan/models',
    ]);
    const xdg = { home, platform: 'linux' as const, env: { XDG_DATA_HOME: '/data', XDG_CACHE_HOME: '/cache' } };
    assert.deepEqual(sourceFolders('gpt4all', xdg), ['/data/nomic.ai/GPT4All']);
    assert.deepEqual(sourceFolders('jan', xdg), ['/data/Jan/data/llamacpp/models', '/data/Jan/data/models', '/home/ann/jan/models']);
    assert.deepEqual(sourceFolders('huggingface-cache', xdg), ['/cache/huggingface/hub']);
  });

  test('Hugging Face precedence: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME; ~ expanded', () => {
    const base = { home: '/home/ann', platform: 'linux' as const };
    const hf = (env: Record<string, string>) => sourceFolders('huggingface-cache', { ...base, env });
    assert.deepEqual(hf({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c', XDG_CACHE_HOME: '/d' }), ['/a']);
    assert.deepEqual(hf({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c', XDG_CACHE_HOME: '/d' }), ['/b']);
    assert.deepEqual(hf({ HF_HOME: '/c', XDG_CACHE_HOME: '/d' }), ['/c/hub']);
    assert.deepEqual(hf({ HF_HOME: '~/hf' }), ['/home/ann/hf/hub']);
    assert.deepEqual(hf({ HF_HOME: 'relative/hf', HF_HUB_CACHE: '' }), ['/home/ann/.cache/huggingface/hub']);
  });

  test('Ollama: OLLAMA_MODELS; relative values ignored; the system store only when asked for', () => {
    const base = { home: '/home/ann', platform: 'linux' as const };
    assert.deepEqual(sourceFolders('ollama', { ...base, env: { OLLAMA_MODELS: "'/srv/ollama'" } }), ['/srv/ollama']);
    assert.deepEqual(sourceFolders('ollama', { ...base, env: { OLLAMA_MODELS: 'models' } }), ['/home/ann/.ollama/models']);
    // With a home passed, the machine's /usr/share/ollama store is never added (tests stay on the fixture).
    assert.deepEqual(sourceFolders('ollama', { ...base, env: {} }), ['/home/ann/.ollama/models']);
  });

  test('macOS', () => {
    const o = { home: '/Users/ann', env: {}, platform: 'darwin' as const };
    assert.deepEqual(sourceFolders('lmstudio', o), ['/Users/ann/.lmstudio/models', '/Users/ann/.cache/lm-studio/models']);
    assert.deepEqual(sourceFolders('ollama', o), ['/Users/ann/.ollama/models']);
    assert.deepEqual(sourceFolders('huggingface-cache', o), ['/Users/ann/.cache/huggingface/hub']);
    assert.deepEqual(sourceFolders('gpt4all', o), ['/Users/ann/Library/Application Support/nomic.ai/GPT4All']);
    assert.deepEqual(sourceFolders('jan', o), [
      '/Users/ann/Library/Application Support/Jan/data/llamacpp/models',
      '/Users/ann/Library/Application Support/Jan/data/models',
      '/Users/ann/jan/models',
    ]);
    // XDG_DATA_HOME is a Linux convention: GPT4All and Jan ignore it on macOS.
    assert.deepEqual(sourceFolders('gpt4all', { ...o, env: { XDG_DATA_HOME: '/data' } }), ['/Users/ann/Library/Application Support/nomic.ai/GPT4All']);
  });

  test('Windows: profile folders, %LOCALAPPDATA%, %APPDATA%, Windows path syntax', () => {
    const home = 'C:\\Users\\ann';
    const env = { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local', APPDATA: 'D:\\Roaming' };
    const o = { home, env, platform: 'win32' as const };
    assert.deepEqual(sourceFolders('lmstudio', o), ['C:\\Users\\ann\\.lmstudio\\models', 'C:\\Users\\ann\\.cache\\lm-studio\\models']);
    assert.deepEqual(sourceFolders('ollama', o), ['C:\\Users\\ann\\.ollama\\models']);
    assert.deepEqual(sourceFolders('ollama', { ...o, env: { OLLAMA_MODELS: 'E:\\ollama' } }), ['E:\\ollama']);
    assert.deepEqual(sourceFolders('huggingface-cache', o), ['C:\\Users\\ann\\.cache\\huggingface\\hub']);
    assert.deepEqual(sourceFolders('huggingface-cache', { ...o, env: { HF_HOME: 'E:\\hf' } }), ['E:\\hf\\hub']);
    assert.deepEqual(sourceFolders('gpt4all', o), ['C:\\Users\\ann\\AppData\\Local\\nomic.ai\\GPT4All']);
    assert.deepEqual(sourceFolders('gpt4all', { ...o, env: {} }), ['C:\\Users\\ann\\AppData\\Local\\nomic.ai\\GPT4All']);
    assert.deepEqual(sourceFolders('jan', o), ['D:\\Roaming\\Jan\\data\\llamacpp\\models', 'D:\\Roaming\\Jan\\data\\models', 'C:\\Users\\ann\\jan\\models']);
    assert.deepEqual(sourceFolders('jan', { ...o, env: {} }), [
      'C:\\Users\\ann\\AppData\\Roaming\\Jan\\data\\llamacpp\\models',
      'C:\\Users\\ann\\AppData\\Roaming\\Jan\\data\\models',
      'C:\\Users\\ann\\jan\\models',
    ]);
  });
});

test('isDiscoverableModelFileName: GGUFs only, no projectors, hidden files or later split parts', () => {
  for (const yes of ['model.gguf', 'Llama-3.2-1B-Instruct-Q4_K_M.GGUF', 'big-00001-of-00003.gguf', 'mmprojector-free.gguf']) {
    assert.equal(isDiscoverableModelFileName(yes), true, yes);
  }
  for (const no of ['mmproj-model-f16.gguf', 'Qwen2-VL-7B-Instruct-mmproj-f16.gguf', 'llava.mmproj-Q8_0.gguf', 'mmproj.gguf', 'big-00002-of-00003.gguf', '.hidden.gguf', '._model.gguf', 'model.bin', 'model.gguf.part']) {
    assert.equal(isDiscoverableModelFileName(no), false, no);
  }
});
