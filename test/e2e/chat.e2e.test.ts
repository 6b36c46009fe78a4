/**
 * The real renderer in real Chromium against the browser mode (`npm run web`'s command in a child
 * process) with the kit's stories260K model: chat streams, Stop keeps the partial reply, Regenerate and
 * Edit re-ask, a restart keeps everything, search finds it, delete removes it, and a non-GGUF file in the
 * models folder is listed as unusable without breaking anything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

describe('chat in the browser mode', () => {
  const tmp = tempDir('wattwise-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let conversationId = '';

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    writeFileSync(join(modelsDir, 'readme.gguf'), 'Not a model: a text file with a .gguf name.\n');
    server = await startWebProcess({ dataDir, modelsDir });
    // One thread keeps replies quick on the 2-core CI machine; calibration has its own tests.
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 200 });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const assistantMessages = () => page.locator('[data-testid="message"][data-role="assistant"]');

  test('the model picker lists the good model and the unusable file with its reason', async () => {
    await page.getByTestId('model-picker').click();
    const options = page.getByTestId('model-option');
    await options.first().waitFor();
    const usable = page.locator('[data-testid="model-option"][data-usable="true"]');
    const unusable = page.locator('[data-testid="model-option"][data-usable="false"]');
    assert.equal(await usable.count(), 1);
    assert.match(await usable.innerText(), /F32/);
    assert.equal(await unusable.count(), 1);
    assert.match(await unusable.innerText(), /readme|not a GGUF/i);
    await page.keyboard.press('Escape');
  });

  test('a message gets a streamed reply with its stats', async () => {
    await page.getByTestId('composer').fill('Once upon a time');
    // Record every length the reply's text takes while it streams.
    await page.evaluate(() => {
      const w = window as unknown as { __lengths: number[] };
      w.__lengths = [];
      new MutationObserver(() => {
        const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
        const last = nodes[nodes.length - 1];
        if (last) w.__lengths.push(last.textContent?.length ?? 0);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('send').click();
    const reply = assistantMessages().last();
    await reply.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    const text = await reply.getByTestId('message-content').innerText();
    assert.ok(text.trim().length > 20, `reply text: ${text}`);
    const lengths = await page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths);
    assert.ok(new Set(lengths.filter((l) => l > 0)).size >= 2, `text appeared in several steps: ${lengths.slice(0, 20).join(',')}`);
    const stats = await reply.getByTestId('message-stats').innerText();
    assert.match(stats, /F32/);
    assert.match(stats, /tok\/s/);
    assert.match(stats, /TTFT/i);
    const item = page.getByTestId('conversation-item').first();
    conversationId = (await item.getAttribute('data-conversation-id')) ?? '';
    assert.ok(conversationId);
    assert.match(await item.innerText(), /Once upon a time/);
  });

  test('Eject unloads the model; the next reply loads it again', async () => {
    await page.getByTestId('model-picker').click();
    await page.getByTestId('eject').click();
    await page.locator('[data-testid="engine-status"][data-state="idle"]').waitFor();
    assert.match(await page.getByTestId('engine-status').innerText(), /No model loaded/);
    assert.equal(((await apiCall(server, 'engine.status', {})) as { modelPath: string | null }).modelPath, null);
  });

  test('a follow-up with markdown, then a screenshot mid-conversation', async () => {
    await page.getByTestId('composer').fill('Tell me about the little bird');
    await page.getByTestId('send').click();
    await assistantMessages().nth(1).and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor();
    await screenshot(page, 'chat-mid-conversation');
  });

  test('Stop ends a long reply at once and keeps the partial text', async () => {
    await apiCall(server, 'settings.update', { maxReplyTokens: 20000, contextSize: 4096 });
    await page.getByTestId('composer').fill('Once upon a time there was a long story');
    await page.getByTestId('send').click();
    const reply = assistantMessages().last();
    await page.waitForFunction(
      () => {
        const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
        return (nodes[nodes.length - 1]?.textContent?.length ?? 0) > 40;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.getByTestId('stop').click();
    await reply.and(page.locator('[data-status="stopped"]')).waitFor({ timeout: 5_000 });
    const partial = await reply.getByTestId('message-content').innerText();
    assert.ok(partial.length > 40);
    await page.waitForTimeout(500);
    assert.equal(await reply.getByTestId('message-content').innerText(), partial, 'no text after Stop');
    await apiCall(server, 'settings.update', { maxReplyTokens: 200, contextSize: 2048 });
  });

  test('Regenerate replaces the last reply', async () => {
    const countBefore = await assistantMessages().count();
    const last = assistantMessages().last();
    await last.hover();
    await last.getByTestId('regenerate').click();
    await assistantMessages().last().and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    assert.equal(await assistantMessages().count(), countBefore);
  });

  test('Edit re-asks from the edited message', async () => {
    const firstUser = page.locator('[data-testid="message"][data-role="user"]').first();
    await firstUser.hover();
    await firstUser.getByTestId('edit').click();
    const box = firstUser.locator('textarea');
    await box.fill('The brave little fox');
    await firstUser.getByTestId('save-edit').click();
    await page.locator('[data-testid="message"]').nth(1).and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-testid="message"]').count(), 2, 'later messages were dropped');
    assert.match(await page.locator('[data-testid="message"][data-role="user"]').first().innerText(), /brave little fox/);
  });

  test('after a server restart the conversation is still there', async () => {
    await server.stop();
    server = await startWebProcess({ dataDir, modelsDir });
    await page.goto(server.url);
    const item = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
    await item.waitFor();
    await item.click();
    await page.locator('[data-testid="message"][data-role="user"]').first().waitFor();
    assert.match(await page.locator('[data-testid="message"][data-role="user"]').first().innerText(), /brave little fox/);
    assert.equal(await assistantMessages().count(), 1);
  });

  test('search finds the conversation by its text', async () => {
    await page.getByTestId('search').fill('brave');
    const hit = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
    await hit.waitFor();
    assert.match(await hit.innerText(), /brave/i);
    await page.getByTestId('search').fill('zebracornucopia');
    await hit.waitFor({ state: 'detached' });
    await page.getByTestId('search').fill('');
    await hit.waitFor();
  });

  test('delete asks first, then removes the conversation for good', async () => {
    const item = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
    await item.hover();
    await item.getByTestId('delete').click();
    await page.getByTestId('confirm-delete').click();
    await item.waitFor({ state: 'detached' });
    const list = (await apiCall(server, 'conversations.list', {})) as Array<{ id: string }>;
    assert.ok(!list.some((c) => c.id === conversationId));
  });
});
