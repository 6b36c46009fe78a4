/**
 * The local OpenAI-compatible API, end to end, in real Chromium against the browser mode (`npm run web`'s
 * command in a child process) with the kit's stories260K model: Settings → Local API turns it on on a
 * chosen port and shows its base URL and key; a program (here Node's fetch) gets a chat completion with
 * its energy in `usage`; the day's requests show in the Energy view as one "API requests · <day>" row
 * with the API badge (never in the chat list) and the All / Chat / API filter; a wrong key gets 401,
 * and Regenerate (after asking) makes the old key stop working.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ApiServerStatus, Settings } from '../../shared/contract.js';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

/** A TCP port nobody listens on now: the OS picks one for port 0, and it is closed again. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** `YYYY-MM-DD` of today in local time (the server runs on this machine, in this time zone). */
function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

interface ChatCompletion {
  choices?: { message?: { role?: string; content?: unknown } }[];
  usage?: { energy_j?: unknown; completion_tokens?: unknown };
}

/** `POST <baseUrl>/chat/completions` with `key` (none: no Authorization header). */
async function chatCompletion(baseUrl: string, key: string | null): Promise<{ status: number; body: ChatCompletion }> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key === null ? {} : { Authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 }),
    signal: AbortSignal.timeout(90_000),
  });
  const text = await res.text();
  let body: ChatCompletion = {};
  try {
    body = JSON.parse(text) as ChatCompletion;
  } catch {
    // A 401 may come without JSON; the status is what counts then.
  }
  return { status: res.status, body };
}

describe('local API in the browser mode', () => {
  const tmp = tempDir('wattwise-api-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let port = 0;
  let baseUrl = '';
  let key = '';

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    server = await startWebProcess({ dataDir, modelsDir });
    // One thread keeps replies quick on the 2-core CI machine; calibration has its own tests.
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 64 });
    port = await freePort();
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    // Leave the port free for whoever comes next, even when a test failed half-way.
    await apiCall(server, 'settings.update', { api: { ...((await apiCall(server, 'settings.get', {})) as Settings).api, enabled: false } }).catch(() => undefined);
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const dialog = () => page.getByTestId('settings-dialog');
  const section = () => dialog().getByTestId('api-settings');

  test('a chat in the app first (the Energy view then has both kinds of rows)', async () => {
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').waitFor({ timeout: 60_000 });
  });

  test('Settings shows the API off by default, without a key', async () => {
    await page.getByTestId('settings').click();
    await section().waitFor();
    await section().scrollIntoViewIfNeeded();
    const toggle = section().getByRole('switch', { name: 'Serve the API' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await section().locator('[data-testid="api-status"][data-state="off"]').waitFor();
    assert.match(await section().getByTestId('api-status').innerText(), /Off/);
    assert.equal(await section().getByTestId('api-key').count(), 0, 'no key before the API was ever on');
    assert.equal(await section().getByTestId('api-port').inputValue(), '8484');
    // Every control has an accessible name.
    for (const name of ['Port', 'Allowed browser origins', 'Keep the text of API requests in history']) {
      assert.equal(await section().getByLabel(name, { exact: true }).count(), 1, `a control labelled "${name}"`);
    }
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).api.enabled, false);
  });

  test('a bad port is refused before anything is saved', async () => {
    await section().getByTestId('api-port').fill('80');
    await section().getByTestId('api-enabled').click();
    const error = section().locator('.field__error');
    await error.first().waitFor();
    assert.match(await error.first().innerText(), /1024 to 65535/);
    assert.equal(await section().getByTestId('api-port').getAttribute('aria-invalid'), 'true');
    assert.equal(await section().getByTestId('api-enabled').getAttribute('aria-checked'), 'false');
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).api.enabled, false, 'nothing saved');
  });

  test('turning it on starts the server on the port typed and shows the base URL and the key', async () => {
    await section().getByTestId('api-port').fill(String(port));
    await section().getByTestId('api-enabled').click();
    await section().locator('[data-testid="api-status"][data-state="running"]').waitFor({ timeout: 20_000 });
    assert.equal(await section().getByTestId('api-enabled').getAttribute('aria-checked'), 'true');
    baseUrl = (await section().getByTestId('api-base-url').innerText()).trim();
    assert.equal(baseUrl, `http://127.0.0.1:${port}/v1`);

    // The key is masked until Show is pressed.
    const keyBox = section().getByTestId('api-key');
    await keyBox.waitFor();
    assert.match(await keyBox.inputValue(), /•/);
    await section().getByRole('button', { name: 'Show the API key' }).click();
    await section().locator('[data-testid="api-key"][data-shown="true"]').waitFor();
    key = await keyBox.inputValue();
    assert.doesNotMatch(key, /•/);
    assert.ok(key.length >= 16, `key: ${key}`);
    const stored = (await apiCall(server, 'settings.get', {})) as Settings;
    assert.equal(stored.api.apiKey, key, 'the key shown is the stored one');
    assert.equal(stored.api.port, port);

    // The example uses this base URL, the key and model "auto".
    const example = await section().getByTestId('api-example').innerText();
    assert.ok(example.includes(`${baseUrl}/chat/completions`), example);
    assert.ok(example.includes(`Authorization: Bearer ${key}`), example);
    assert.match(example, /"model": "auto"/);

    const status = (await apiCall(server, 'api.status', {})) as ApiServerStatus;
    assert.equal(status.state, 'running');
    assert.equal(status.baseUrl, baseUrl);

    await section().scrollIntoViewIfNeeded();
    await screenshot(page, 'api-settings');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300); // colour transitions
    await screenshot(page, 'api-settings-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('a program gets a chat completion with its energy', async () => {
    const { status, body } = await chatCompletion(baseUrl, key);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(typeof body.choices?.[0]?.message?.content, 'string', JSON.stringify(body));
    assert.equal(typeof body.usage?.energy_j, 'number', JSON.stringify(body.usage));
    // The status line counts it.
    await section().locator('[data-testid="api-status"][data-state="running"]').filter({ hasText: /[1-9]\d* requests? answered/ }).waitFor({ timeout: 10_000 });
  });

  test('a wrong key, or none, gets 401', async () => {
    assert.equal((await chatCompletion(baseUrl, `${key}x`)).status, 401);
    assert.equal((await chatCompletion(baseUrl, 'ww-not-the-key-at-all-0000000000')).status, 401);
    assert.equal((await chatCompletion(baseUrl, null)).status, 401);
  });

  test("the Energy view lists the day's API requests with the API badge, never the chat list", async () => {
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    await dialog().locator('.dialog__panel').waitFor({ state: 'detached' });
    const title = `API requests · ${today()}`;
    assert.equal(await page.getByTestId('conversation-item').filter({ hasText: 'API requests' }).count(), 0, 'not in the chat list');

    await page.getByTestId('energy-nav').click();
    await page.getByTestId('energy-view').waitFor();
    const apiRow = page.locator('[data-testid="energy-row"][data-source="api"]');
    await apiRow.first().waitFor({ timeout: 10_000 });
    assert.equal(await apiRow.count(), 1, 'one row per day');
    assert.match(await apiRow.innerText(), new RegExp(title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await apiRow.locator('.tag--api').innerText(), 'API');
    assert.ok(Number(await apiRow.getAttribute('data-energy-j')) >= 0);
    const chatRow = page.locator('[data-testid="energy-row"][data-source="app"]');
    assert.equal(await chatRow.count(), 1);

    // Selected, it shows its figures and trace, and offers no "Open chat" (it is not a chat).
    await apiRow.click();
    const selected = page.getByTestId('energy-selected');
    await selected.locator('[data-testid="energy-selected-api-note"]').waitFor();
    assert.equal(await selected.getByTestId('energy-open-chat').count(), 0);
    assert.match(await selected.innerText(), /\d+ repl(y|ies)\b/);
    assert.match(await page.getByTestId('energy-context').innerText(), /These requests used/);

    // The filter: API shows only API rows, Chat only chats, All both.
    await page.getByTestId('energy-filter-api').click();
    await chatRow.waitFor({ state: 'detached' });
    assert.equal(await apiRow.count(), 1);
    await page.locator('.stats[data-filter="api"]').waitFor();
    await page.locator('[data-testid="daily-chart"]').waitFor();
    await screenshot(page, 'api-energy-view-filter');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await screenshot(page, 'api-energy-view-filter-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByTestId('energy-filter-app').click();
    await apiRow.waitFor({ state: 'detached' });
    assert.equal(await chatRow.count(), 1);
    await page.getByTestId('energy-filter-all').click();
    await apiRow.waitFor();
    assert.equal(await chatRow.count(), 1);
  });

  test('Regenerate asks first; then the old key gets 401 and the new one works', async () => {
    await page.getByTestId('settings').click();
    await section().waitFor();
    await section().getByTestId('api-key-regenerate').click();
    const confirm = page.getByTestId('regenerate-key-dialog');
    await confirm.locator('.dialog__panel').waitFor();
    assert.match(await confirm.innerText(), /Apps using the current key will stop working/);
    // Esc closes the question only, not Settings.
    await page.keyboard.press('Escape');
    await confirm.locator('.dialog__panel').waitFor({ state: 'detached' });
    await section().waitFor();
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).api.apiKey, key, 'nothing changed');

    await section().getByTestId('api-key-regenerate').click();
    await confirm.getByTestId('confirm-regenerate-key').click();
    await confirm.locator('.dialog__panel').waitFor({ state: 'detached' });
    await section().getByRole('button', { name: 'Show the API key' }).click();
    await page.waitForFunction((old) => {
      const box = document.querySelector<HTMLInputElement>('[data-testid="api-key"][data-shown="true"]');
      return !!box && box.value !== old && !box.value.includes('•');
    }, key);
    const fresh = await section().getByTestId('api-key').inputValue();
    assert.notEqual(fresh, key);
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).api.apiKey, fresh);
    assert.equal((await chatCompletion(baseUrl, key)).status, 401, 'the old key no longer works');
    assert.equal((await chatCompletion(baseUrl, fresh)).status, 200, 'the new one does');
  });

  test('origins are checked and saved with Save, like the text setting', async () => {
    await section().getByTestId('api-origins').fill('localhost:3000');
    await section().getByTestId('api-keep-text').uncheck();
    await dialog().getByTestId('save-settings').click();
    const originsId = (await section().getByTestId('api-origins').getAttribute('id')) ?? '';
    const error = section().locator(`[id="${originsId}-error"]`);
    await error.waitFor();
    assert.match(await error.innerText(), /not an origin/);
    assert.equal(await section().getByTestId('api-origins').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(((await apiCall(server, 'settings.get', {})) as Settings).api.allowedOrigins, [], 'nothing saved');

    // Written as browsers send it: no trailing slash, no default port, lower-case host.
    await section().getByTestId('api-origins').fill('http://localhost:3000\nhttp://Example.com:80/\n');
    await dialog().getByTestId('save-settings').click();
    await dialog().locator('.dialog__panel').waitFor({ state: 'detached' });
    const saved = ((await apiCall(server, 'settings.get', {})) as Settings).api;
    assert.deepEqual(saved.allowedOrigins, ['http://localhost:3000', 'http://example.com']);
    assert.equal(saved.keepText, false);
    assert.equal(saved.enabled, true, 'still on');
    assert.equal(((await apiCall(server, 'api.status', {})) as ApiServerStatus).state, 'running');

    await page.getByTestId('settings').click();
    await section().waitFor();
    assert.equal(await section().getByTestId('api-origins').inputValue(), 'http://localhost:3000\nhttp://example.com');
    assert.equal(await section().getByTestId('api-keep-text').isChecked(), false);
  });

  test('turning it off stops the server', async () => {
    await section().getByTestId('api-enabled').click();
    await section().locator('[data-testid="api-status"][data-state="off"]').waitFor({ timeout: 10_000 });
    assert.equal(((await apiCall(server, 'api.status', {})) as ApiServerStatus).state, 'off');
    // A new connection (fetch could reuse a kept-alive one) is refused: nothing listens on the port any more.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    assert.ok(refused, `port ${port} is closed`);
  });
});
