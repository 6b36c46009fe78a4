/**
 * The model library (the Models view) in real Chromium against the browser mode (`npm run web`'s command
 * in a child process), downloading from a loopback stand-in for the Hugging Face Hub (test/helpers/fakeHub.ts,
 * `HF_ENDPOINT` points at it) that serves the team kit's tiny models, throttled so progress shows.
 *
 * The child runs with a fixture home holding an LM Studio and an Ollama folder (one kit model each), so
 * the installed list shows other apps' models, read in place and not deletable.
 *
 * The view shows the recommended ladder with costs predicted before download (three rungs: tok/s,
 * J/token, quality in words) and the total download size; a file whose bytes do not match the Hub's
 * checksum fails in words; typing `hf:test/tiny/stories260K.gguf` starts a download whose bar moves (also
 * in the sidebar while the chat shows), that ends "Verified", and the model then appears in the installed
 * list, the chat's model picker and the Governor view's candidates (and `governor.decide`); a throttled
 * download pauses, stays put, and resumes from where it stopped (a ranged request); deleting asks first,
 * says the size freed, and the model disappears everywhere. Screenshots in light and dark.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DownloadJob, GovernorDecision, ModelInfo, RecommendedLadder } from '../../shared/contract.js';
import { formatBytes } from '../../shared/format.js';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { FakeHub, readBytes, sha256 } from '../helpers/fakeHub.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

/**
 * Page script: records every value the download bars take while a row says "active" into
 * `window.__downloadSeen` (a MutationObserver, so no value is missed between two polls of the test).
 * A string, so that the test's transpiler adds nothing to it.
 */
const RECORD_PROGRESS = `(() => {
  const seen = { partial: [], indicator: [] };
  window.__downloadSeen = seen;
  const read = () => {
    for (const row of document.querySelectorAll('[data-testid="download-row"][data-state="active"]')) {
      const v = Number(row.querySelector('[data-testid="download-progress"]')?.getAttribute('aria-valuenow') ?? NaN);
      if (v > 0 && v < 100 && !seen.partial.includes(v)) seen.partial.push(v);
    }
    const ind = Number(document.querySelector('[data-testid="download-indicator-progress"]')?.getAttribute('aria-valuenow') ?? NaN);
    if (ind > 0 && ind < 100 && !seen.indicator.includes(ind)) seen.indicator.push(ind);
  };
  new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-state'] });
  read();
})()`;

describe('model library in the browser mode', () => {
  const tmp = tempDir('wattwise-library-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  const home = join(tmp.dir, 'home');
  const stories = readBytes(testModel('stories260K.gguf'));
  const random = readBytes(testModel('llama-2-tiny-random.gguf'));
  let hub: FakeHub;
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  /** The finished stories260K download's file. */
  let downloadedPath = '';

  before(async () => {
    mkdirSync(modelsDir, { recursive: true });
    // A file that is not a model: listed with its problem.
    writeFileSync(join(modelsDir, 'not-a-model.gguf'), 'this is not a GGUF file\n'.repeat(64));
    // Another app's models, read in place: LM Studio (publisher/repo/file) and Ollama (manifest + blob).
    const lmDir = join(home, '.lmstudio', 'models', 'kit-publisher', 'tiny-random-GGUF');
    mkdirSync(lmDir, { recursive: true });
    symlinkSync(testModel('llama-2-tiny-random.gguf'), join(lmDir, 'llama-2-tiny-random.gguf'));
    const ollama = join(home, '.ollama', 'models');
    const hex = sha256(readBytes(testModel('TinyStories-656K-Q8_0.gguf')));
    mkdirSync(join(ollama, 'blobs'), { recursive: true });
    mkdirSync(join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'tinystories'), { recursive: true });
    symlinkSync(testModel('TinyStories-656K-Q8_0.gguf'), join(ollama, 'blobs', `sha256-${hex}`));
    writeFileSync(
      join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'tinystories', '656k'),
      JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: 749728 }] }),
    );

    hub = await FakeHub.start([
      { repo: 'test/tiny', path: 'stories260K.gguf', bytes: stories },
      { repo: 'test/broken', path: 'broken-stories.gguf', bytes: stories },
      { repo: 'test/random', path: 'tiny-random.gguf', bytes: random },
    ]);
    server = await startWebProcess({
      dataDir,
      modelsDir,
      env: {
        HF_ENDPOINT: hub.endpoint,
        HF_TOKEN: undefined,
        HOME: home,
        // Nothing of this machine's own caches: only the fixture home's folders.
        HF_HOME: undefined,
        HF_HUB_CACHE: undefined,
        HUGGINGFACE_HUB_CACHE: undefined,
        OLLAMA_MODELS: undefined,
        XDG_CACHE_HOME: undefined,
        XDG_DATA_HOME: undefined,
        XDG_CONFIG_HOME: undefined,
      },
    });
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 16, theme: 'light' });
    ({ browser, page } = await openApp(server));
    await page.addInitScript(RECORD_PROGRESS);
    await page.evaluate(RECORD_PROGRESS);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await hub?.close();
    tmp.cleanup();
  });

  const rows = () => page.getByTestId('download-row');
  const rowFor = (file: string) => page.locator(`[data-testid="download-row"][data-file="${file}"]`);
  const jobs = () => apiCall(server, 'downloads.list', {}) as Promise<DownloadJob[]>;
  const models = () => apiCall(server, 'models.list', {}) as Promise<ModelInfo[]>;
  const decide = () => apiCall(server, 'governor.decide', {}) as Promise<GovernorDecision>;
  const seen = () => page.evaluate(() => (window as unknown as { __downloadSeen: { partial: number[]; indicator: number[] } }).__downloadSeen);
  const resetSeen = () => page.evaluate(() => {
    const w = window as unknown as { __downloadSeen: { partial: number[]; indicator: number[] } };
    w.__downloadSeen.partial.length = 0;
    w.__downloadSeen.indicator.length = 0;
  });

  /** A whole-page screenshot of the Models view: the window made as tall as its content, then put back. */
  const tallScreenshot = async (name: string) => {
    const height = await page.evaluate(() => {
      const scroll = document.querySelector('.energy-view__scroll');
      return scroll ? scroll.scrollHeight + 56 : 900;
    });
    await page.setViewportSize({ width: 1440, height: Math.min(4000, Math.max(900, height)) });
    await page.waitForTimeout(150);
    await screenshot(page, name);
    await page.setViewportSize({ width: 1440, height: 900 });
  };

  /** Types `source` in "Download from Hugging Face or a URL" and starts it. */
  const startFromField = async (source: string) => {
    await page.getByTestId('download-source').fill(source);
    await page.getByTestId('download-source-start').click();
  };

  test('the Models view shows the recommended ladder with predicted costs, and other apps’ models read in place', async () => {
    await page.getByTestId('models-nav').click();
    await page.getByTestId('models-view').waitFor();
    assert.equal(await page.getByTestId('models-nav').getAttribute('aria-current'), 'page');

    const ladder = (await apiCall(server, 'library.recommend', {})) as RecommendedLadder;
    // About three rungs: on a slow machine nothing may lie between Saver and Performance (then two).
    const n = ladder.rungs.length;
    assert.ok(n >= 2 && n <= 3, `rungs: ${ladder.rungs.map((r) => r.profile).join(', ')}`);
    const rungs = page.getByTestId('rung');
    await rungs.nth(n - 1).waitFor({ timeout: 30_000 });
    assert.equal(await rungs.count(), n);
    for (let i = 0; i < n; i++) {
      const rung = rungs.nth(i);
      const expected = ladder.rungs[i]!;
      assert.equal(await rung.getAttribute('data-profile'), expected.profile);
      const text = await rung.innerText();
      assert.ok(text.includes(expected.offer.entry.name), `rung ${i} names ${expected.offer.entry.name}: ${text}`);
      assert.match(await rung.getByTestId('rung-speed').innerText(), /\d tok\/s$/);
      assert.match(await rung.getByTestId('rung-power').innerText(), /\d W$/);
      // Predicted before any download: an estimate, so "≈".
      assert.match(await rung.getByTestId('rung-energy').innerText(), /^≈ [\d.,]+ J\/token$/);
      assert.match(await rung.getByTestId('rung-quality').innerText(), /like an? [\d.]+[KMBT]? model at full precision/);
      assert.equal(await rung.getByTestId('rung-reason').innerText(), expected.reason);
      assert.equal(await rung.getByTestId('offer-download').count(), 1, `rung ${i} offers a download`);
    }
    const total = page.getByTestId('ladder-total');
    assert.equal(Number(await total.getAttribute('data-download-bytes')), ladder.downloadBytes);
    assert.ok(ladder.downloadBytes > 0);
    assert.ok((await total.innerText()).includes(`${formatBytes(ladder.downloadBytes)} to download`), await total.innerText());
    if (ladder.freeDiskBytes !== null) assert.ok((await total.innerText()).includes('free on disk'));

    // Other apps' models, each with its badge and without a Delete button.
    const lm = page.locator('[data-testid="installed-model"][data-source="lmstudio"]');
    const ol = page.locator('[data-testid="installed-model"][data-source="ollama"]');
    await lm.waitFor();
    await ol.waitFor();
    assert.equal(await lm.getByTestId('model-source').innerText(), 'LM Studio: kit-publisher/tiny-random-GGUF');
    assert.equal(await ol.getByTestId('model-source').innerText(), 'Ollama: tinystories:656k');
    assert.equal(await lm.getByTestId('installed-delete').count(), 0, 'another app’s file cannot be deleted');
    assert.equal(await ol.getByTestId('installed-delete').count(), 0);
    const broken = page.locator('[data-testid="installed-model"][data-usable="false"]');
    assert.equal(await broken.count(), 1);
    assert.ok((await broken.getByTestId('installed-problem').innerText()).length > 5, 'the unusable file says why');
    assert.match(await page.getByTestId('library-disk').innerText(), /free on disk/);

    // The catalog lists every offer with its cost and a Download button.
    const offers = (await apiCall(server, 'library.catalog', {})) as { offers: unknown[] };
    assert.equal(await page.getByTestId('catalog-row').count(), offers.offers.length);
    await page.getByTestId('catalog-sort-quality').click();
    assert.equal(await page.locator('th[aria-sort="descending"]').count(), 1, 'sorted by quality, best first');
    await tallScreenshot('library-overview-light');
  });

  test('a file that does not match the Hub’s checksum fails in words and leaves nothing behind', async () => {
    hub.knobs.corruptByteAt = 4096;
    await startFromField('hf:test/broken/broken-stories.gguf');
    const row = rowFor('broken-stories.gguf');
    await row.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 30_000 });
    const error = row.getByTestId('download-error');
    assert.equal(await error.getAttribute('data-code'), 'CORRUPT');
    assert.match(await error.innerText(), /did not match its checksum and was removed/);
    assert.equal(await row.getByTestId('download-resume').innerText(), 'Retry');
    assert.ok(!(await models()).some((m) => m.fileName === 'broken-stories.gguf'), 'the corrupt file is not installed');
    hub.knobs.corruptByteAt = null;
    // Cancel drops it (and any partial file).
    await row.getByTestId('download-cancel').click();
    await row.and(page.locator('[data-state="cancelled"]')).waitFor();
  });

  test('typing an hf: URI downloads with a moving bar, verified; the model shows in the list, the picker and the governor', async () => {
    hub.knobs.throttle = { chunkBytes: 48 * 1024, intervalMs: 150 };
    await resetSeen();
    await startFromField('hf:test/tiny/stories260K.gguf');
    const row = rowFor('stories260K.gguf');
    await row.waitFor();
    await page.locator('[data-testid="download-row"][data-file="stories260K.gguf"][data-state="active"]').waitFor({ timeout: 20_000 });
    // The bar moves before the end.
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('[data-testid="download-row"][data-file="stories260K.gguf"] [data-testid="download-progress"]');
        return Number(bar?.getAttribute('aria-valuenow') ?? 0) > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const facts = await row.innerText();
    assert.match(facts, /of 1\.19 MB/, `bytes done of total: ${facts}`);
    assert.match(facts, /\/s/, `a speed: ${facts}`);
    await screenshot(page, 'library-downloading');

    // Downloads go on while the chat shows; the sidebar says how far.
    await page.getByTestId('new-chat').click();
    const indicator = page.getByTestId('download-indicator');
    await indicator.waitFor();
    assert.match(await indicator.innerText(), /stories260K\.gguf/);
    await screenshot(page, 'library-sidebar-indicator');
    await indicator.click();
    await page.getByTestId('models-view').waitFor();

    await row.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    assert.equal(await row.getByTestId('download-verified').innerText(), 'Verified');
    await indicator.waitFor({ state: 'detached' });
    const recorded = await seen();
    assert.ok(recorded.partial.length > 0, `the row's bar showed a value between 0 and 100: ${JSON.stringify(recorded)}`);
    hub.knobs.throttle = null;

    const job = (await jobs()).find((j) => j.input === 'hf:test/tiny/stories260K.gguf' && j.state === 'done');
    assert.ok(job?.result, 'the job finished with a result');
    assert.equal(job.result.verified, true);
    assert.equal(job.result.sha256, sha256(stories));
    downloadedPath = job.result.path;
    assert.ok(downloadedPath.startsWith(modelsDir), `downloaded into the models folder: ${downloadedPath}`);
    assert.equal(sha256(readFileSync(downloadedPath)), sha256(stories));

    // Installed list (own folder, deletable).
    const installed = page.locator(`[data-testid="installed-model"][data-model-path="${downloadedPath}"]`);
    await installed.waitFor({ timeout: 15_000 });
    assert.equal(await installed.getAttribute('data-source'), 'models-folder');
    assert.equal(await installed.getByTestId('model-source').innerText(), 'Models folder');
    assert.equal(await installed.getByTestId('installed-delete').count(), 1);

    // The governor's candidates (API and view).
    const decision = await decide();
    assert.ok(decision.candidates.some((c) => c.modelPath === downloadedPath), 'governor.decide lists the new model');
    await page.getByTestId('governor-nav').click();
    await page.locator(`[data-testid="governor-row"][data-model-path="${downloadedPath}"]`).waitFor({ timeout: 15_000 });

    // The chat's model picker.
    await page.getByTestId('new-chat').click();
    await page.getByTestId('model-picker').click();
    await page.locator(`[data-testid="model-option"][data-model-path="${downloadedPath}"]`).waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    await screenshot(page, 'library-picker');
    await page.keyboard.press('Escape');
  });

  test('a throttled download pauses, stays put, and resumes where it stopped', async () => {
    await page.getByTestId('models-nav').click();
    await page.getByTestId('models-view').waitFor();
    hub.knobs.throttle = { chunkBytes: 16 * 1024, intervalMs: 100 };
    const before = hub.byteRequests().length;
    await startFromField('hf:test/random/tiny-random.gguf');
    const row = rowFor('tiny-random.gguf');
    const bar = row.getByTestId('download-progress');
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="download-row"][data-file="tiny-random.gguf"] [data-testid="download-progress"]')?.getAttribute('aria-valuenow') ?? 0) >= 10,
      undefined,
      { timeout: 30_000 },
    );
    await row.getByTestId('download-pause').click();
    await row.and(page.locator('[data-state="paused"]')).waitFor({ timeout: 15_000 });
    assert.match(await row.getByTestId('download-state').innerText(), /^Paused/);
    const pausedAt = Number(await bar.getAttribute('aria-valuenow'));
    assert.ok(pausedAt > 0 && pausedAt < 100, `paused part way: ${pausedAt}%`);
    await page.waitForTimeout(1200);
    assert.equal(Number(await bar.getAttribute('aria-valuenow')), pausedAt, 'a paused download does not move');
    const paused = (await jobs()).find((j) => j.input === 'hf:test/random/tiny-random.gguf');
    assert.equal(paused?.state, 'paused');
    await screenshot(page, 'library-paused');

    hub.knobs.throttle = { chunkBytes: 64 * 1024, intervalMs: 50 };
    await row.getByTestId('download-resume').click();
    await row.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    assert.equal(await row.getByTestId('download-verified').innerText(), 'Verified');
    hub.knobs.throttle = null;
    const done = (await jobs()).find((j) => j.input === 'hf:test/random/tiny-random.gguf' && j.state === 'done');
    assert.ok(done?.result);
    assert.ok(done.result.resumedFromBytes > 0, `resumed from ${done.result.resumedFromBytes} bytes`);
    assert.equal(done.result.sha256, sha256(random));
    const ranged = hub.byteRequests().slice(before).filter((r) => r.range !== null && !/^bytes=0-/.test(r.range));
    assert.ok(ranged.length > 0, `the resume asked for the rest only: ${JSON.stringify(hub.byteRequests().slice(before).map((r) => r.range))}`);
  });

  test('deleting asks first, says the size freed, and the model disappears everywhere', async () => {
    const installed = page.locator(`[data-testid="installed-model"][data-model-path="${downloadedPath}"]`);
    await installed.getByTestId('installed-delete').click();
    const dialog = page.getByTestId('delete-model-dialog');
    await dialog.getByTestId('confirm-delete-model').waitFor();
    const text = await dialog.innerText();
    assert.ok(text.includes('stories260K.gguf') && text.includes(formatBytes(stories.length)), `the dialog names the file and its size: ${text}`);
    await screenshot(page, 'library-delete-dialog');
    // Cancel keeps it.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.ok(existsSync(downloadedPath));
    await installed.getByTestId('installed-delete').click();
    await dialog.getByTestId('confirm-delete-model').click();
    await installed.waitFor({ state: 'detached', timeout: 15_000 });
    assert.match(await page.getByTestId('delete-status').innerText(), new RegExp(`${formatBytes(stories.length).replace('.', '\\.')} freed`));
    assert.ok(!existsSync(downloadedPath), 'the file is gone');
    assert.ok(!(await models()).some((m) => m.path === downloadedPath), 'models.list no longer lists it');
    assert.ok(!(await decide()).candidates.some((c) => c.modelPath === downloadedPath), 'nor does the governor');
    // Other apps' models are untouched.
    assert.ok(existsSync(join(home, '.lmstudio', 'models', 'kit-publisher', 'tiny-random-GGUF', 'llama-2-tiny-random.gguf')));

    await page.getByTestId('new-chat').click();
    await page.getByTestId('model-picker').click();
    await page.locator('[data-testid="model-option"]').first().waitFor();
    assert.equal(await page.locator(`[data-testid="model-option"][data-model-path="${downloadedPath}"]`).count(), 0, 'the picker no longer lists it');
    await page.keyboard.press('Escape');
  });

  test('turning an app off in Settings drops its models; its folders and what was found are shown', async () => {
    await page.getByTestId('settings').click();
    const dialog = page.getByTestId('settings-dialog');
    const toggles = dialog.getByTestId('model-source-toggle');
    await toggles.first().waitFor();
    assert.equal(await toggles.count(), 5);
    const sources = await dialog.getByTestId('model-sources').innerText();
    assert.match(sources, /Ollama\s*1 model/, sources);
    assert.ok(sources.includes(join(home, '.ollama', 'models')), `the folders looked in: ${sources}`);
    await screenshot(page, 'library-settings-sources');
    await dialog.locator('[data-testid="model-source-toggle"][data-source="ollama"]').uncheck();
    await dialog.getByTestId('save-settings').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('models-nav').click();
    await page.locator('[data-testid="installed-model"][data-source="ollama"]').waitFor({ state: 'detached', timeout: 15_000 });
    assert.ok(!(await models()).some((m) => m.source === 'ollama'), 'models.list leaves Ollama out');
    assert.equal(await page.locator('[data-testid="installed-model"][data-source="lmstudio"]').count(), 1, 'LM Studio still read');
    const settings = (await apiCall(server, 'settings.get', {})) as { modelSources: Record<string, boolean> };
    assert.equal(settings.modelSources.ollama, false);
    await apiCall(server, 'settings.update', { modelSources: { ...settings.modelSources, ollama: true } });
  });

  test('dark theme', async () => {
    await apiCall(server, 'settings.update', { theme: 'dark' });
    await page.reload();
    await page.getByTestId('models-nav').click();
    await page.getByTestId('rung').nth(1).waitFor({ timeout: 30_000 });
    await page.getByTestId('download-row').first().waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await tallScreenshot('library-overview-dark');
    assert.ok((await rows().count()) >= 1);
  });
});
