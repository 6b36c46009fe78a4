/**
 * "Try with…" and reply versions in the real renderer (Chromium, browser mode, the kit's two tiny models):
 * answering the same question with another model keeps the first answer, "‹ 2/2 ›" switches between them,
 * "Compare" lists each version with its model and energy, and a reload keeps all of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

describe('reply versions in the browser mode', () => {
  const tmp = tempDir('wattwise-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    symlinkSync(testModel('TinyStories-656K-Q8_0.gguf'), join(modelsDir, 'TinyStories-656K-Q8_0.gguf'));
    server = await startWebProcess({ dataDir, modelsDir });
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 40 });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const lastReply = () => page.locator('[data-testid="message"][data-role="assistant"]').last();

  test('"Try with…" another model keeps the first answer; ‹ › switches between them', async () => {
    await page.getByTestId('model-picker').click();
    await page.locator('[data-testid="model-option"]', { hasText: 'F32' }).click();
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('send').click();
    await lastReply().and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    const firstText = await lastReply().getByTestId('message-content').innerText();
    assert.match(await lastReply().getByTestId('message-stats').innerText(), /F32/);

    await lastReply().getByTestId('try-with').click();
    const menu = page.getByRole('menu', { name: 'Answer again with' });
    await menu.waitFor();
    // The governor's picks per profile say which model and what it is predicted to cost.
    await page.getByTestId('try-with-saver').and(page.locator(':not(:disabled)')).waitFor();
    assert.match(await page.getByTestId('try-with-saver').innerText(), /Saver's choice[\s\S]*J\/token/);
    await screenshot(page, 'versions-try-with-menu');
    await menu.getByTestId('try-with-model').filter({ hasText: 'Q8_0' }).click();
    await page.getByTestId('version-count').waitFor({ timeout: 60_000 });
    await lastReply().and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('version-count').innerText(), '2/2');
    assert.match(await lastReply().getByTestId('message-stats').innerText(), /Q8_0/);
    assert.equal(await lastReply().getByTestId('message-governor').getAttribute('data-profile'), 'picked', 'not "pinned": chosen for this reply');

    await page.getByRole('button', { name: 'Previous version' }).click();
    await page.getByTestId('version-count').filter({ hasText: '1/2' }).waitFor();
    assert.equal(await lastReply().getByTestId('message-content').innerText(), firstText);
    assert.match(await lastReply().getByTestId('message-stats').innerText(), /F32/);
    assert.equal(await lastReply().getByTestId('message-governor').getAttribute('data-profile'), 'pinned');
  });

  test('Compare lists every version with its model and energy; a reload keeps them', async () => {
    await page.getByTestId('compare-versions').click();
    const rows = page.getByTestId('version-row');
    assert.equal(await rows.count(), 2);
    const texts = await rows.allInnerTexts();
    assert.match(texts[0] ?? '', /F32[\s\S]*J[\s\S]*J\/token/);
    assert.match(texts[1] ?? '', /Q8_0[\s\S]*J/);
    assert.equal(await rows.first().getAttribute('aria-current'), 'true');
    await screenshot(page, 'versions-compare');

    await rows.nth(1).click();
    await page.getByTestId('version-count').filter({ hasText: '2/2' }).waitFor();
    await apiCall(server, 'settings.update', { theme: 'dark' });
    await page.reload();
    await page.getByTestId('conversation-item').first().click();
    await lastReply().waitFor();
    assert.equal(await page.getByTestId('version-count').innerText(), '2/2');
    await page.getByTestId('compare-versions').click();
    await screenshot(page, 'versions-compare-dark');
  });
});
