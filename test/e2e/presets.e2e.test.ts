/**
 * Presets in real Chromium against the browser mode (`npm run web`'s command in a child process) with the
 * kit's stories260K model: pick Creative in the chat header for a new chat, override its temperature (the
 * dot and the reset control), refuse a value out of range, create a preset in Settings → Presets, find it
 * in the header picker, and after a server restart find the preset and the chat's choice kept; deleting
 * the preset (after a confirmation) moves the chat back to Default. axe-core checks the panel, the Settings
 * section and the editor in both themes; screenshots go to test-results/presets-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';
import type { ConversationDetail } from '../../shared/contract.js';
import type { Preset } from '../../shared/presets.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe's serious and critical WCAG 2.1 A/AA violations inside `selector`, one line each. */
async function axeViolations(page: Page, selector: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = (await page.evaluate(
    `window.axe.run(${JSON.stringify(selector)}, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })`,
  )) as AxeResults;
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} — ${(n.failureSummary ?? v.help).replace(/\s+/g, ' ')}`));
}

/** Waits until no animation runs (popovers fade in), so screenshots and contrast checks see the final colours. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
}

describe('presets in the browser mode', () => {
  const tmp = tempDir('wattwise-presets-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let conversationId = '';
  let presetId = '';

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    server = await startWebProcess({ dataDir, modelsDir });
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 48, theme: 'light' });
    ({ browser, page } = await openApp(server));
    await page.getByTestId('composer').waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const trigger = () => page.getByTestId('preset-picker');
  const panel = () => page.getByTestId('preset-panel');
  const conversation = async () => ((await apiCall(server, 'conversations.get', { id: conversationId })) as ConversationDetail).conversation;

  async function setTheme(theme: 'light' | 'dark') {
    await apiCall(server, 'settings.update', { theme });
    // The app follows settings it reads on load and on its own saves: reload to take the API's change.
    await page.reload();
    await page.locator(`html[data-theme="${theme}"]`).waitFor();
  }

  test('a new chat starts on Default; choosing Creative in the header makes the chat with it', async () => {
    assert.match(await trigger().innerText(), /Default/);
    assert.equal(await trigger().getAttribute('data-preset'), 'default');
    await trigger().click();
    await panel().waitFor();
    assert.deepEqual(
      await page.getByTestId('preset-option').evaluateAll((els) => els.map((e) => e.getAttribute('data-preset-id'))),
      ['default', 'precise', 'creative'],
    );
    // Keyboard: the selected option has focus; arrows move, Enter chooses.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="preset-option"][data-preset-id="creative"][aria-selected="true"]').waitFor();
    assert.equal(await page.getByTestId('param-temperature').inputValue(), '1');
    await page.keyboard.press('Escape');
    await panel().waitFor({ state: 'detached' });
    assert.match(await trigger().innerText(), /Creative/);

    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').waitFor({ timeout: 60_000 });
    conversationId = (await page.getByTestId('conversation-item').first().getAttribute('data-conversation-id')) ?? '';
    const c = await conversation();
    assert.equal(c.presetId, 'creative');
    assert.equal(c.overrides, null, 'the default system prompt is no override');
  });

  test('overriding the temperature marks it with a dot; a value out of range is refused; reset goes back', async () => {
    await trigger().click();
    await panel().waitFor();
    const temperature = page.getByTestId('param-temperature');
    await temperature.fill('5');
    await temperature.press('Enter');
    await page.locator('.preset-field[data-field="temperature"] .preset-field__error').waitFor();
    assert.match(await page.locator('.preset-field[data-field="temperature"] .preset-field__error').innerText(), /0 to 2/);
    assert.equal((await conversation()).overrides, null, 'nothing was sent');

    await temperature.fill('1.35');
    await temperature.press('Enter');
    await page.locator('.preset-field.is-overridden[data-field="temperature"]').waitFor();
    await page.locator('[data-testid="preset-picker"].has-overrides').waitFor();
    assert.deepEqual((await conversation()).overrides, { temperature: 1.35 });
    assert.match((await trigger().getAttribute('aria-label')) ?? '', /Creative, 1 setting changed for this chat/);
    await settled(page);
    await screenshot(page, 'presets-panel-light');
    assert.deepEqual(await axeViolations(page, '[data-testid="preset-panel"]'), []);
    assert.deepEqual(await axeViolations(page, '[data-testid="preset-picker"]'), []);

    await page.getByTestId('reset-temperature').click();
    await page.locator('.preset-field.is-overridden[data-field="temperature"]').waitFor({ state: 'detached' });
    assert.equal(await temperature.inputValue(), '1');
    assert.equal((await conversation()).overrides, null);

    // Override again (kept for the restart below), this time leaving the field with Tab.
    await temperature.fill('1.35');
    await temperature.press('Tab');
    await page.locator('.preset-field.is-overridden[data-field="temperature"]').waitFor();
    assert.deepEqual((await conversation()).overrides, { temperature: 1.35 });
    await page.keyboard.press('Escape');
    await panel().waitFor({ state: 'detached' });

    // The next reply is generated with them.
    await page.getByTestId('composer').fill('The little dog');
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').nth(1).waitFor({ timeout: 60_000 });
  });

  test('Settings → Presets creates a preset; built-ins can only be duplicated', async () => {
    await page.getByTestId('settings').click();
    const section = page.getByTestId('presets-settings');
    await section.waitFor();
    assert.equal(await section.getByTestId('preset-row').count(), 3);
    const precise = section.locator('[data-testid="preset-row"][data-preset-id="precise"]');
    assert.equal(await precise.getByTestId('delete-preset').count(), 0, 'a built-in has no delete');
    assert.equal(await precise.getByTestId('edit-preset').count(), 0, 'a built-in has no edit');

    // Duplicate a built-in: the editor opens with its values and a free name.
    await precise.getByTestId('duplicate-preset').click();
    const editor = page.getByTestId('preset-editor');
    await editor.getByTestId('preset-editor-name').waitFor();
    assert.equal(await editor.getByTestId('preset-editor-name').inputValue(), 'Copy of Precise');
    assert.equal(await editor.getByTestId('preset-editor-temperature').inputValue(), '0.2');
    await editor.getByRole('button', { name: 'Cancel' }).click();
    await editor.getByTestId('preset-editor-name').waitFor({ state: 'detached' });

    await section.getByTestId('new-preset').click();
    await editor.getByTestId('preset-editor-name').fill('Bedtime stories');
    await editor.getByTestId('preset-editor-follow-systemPrompt').uncheck();
    await editor.getByTestId('preset-editor-systemPrompt').fill('You tell calm, short stories for children.');
    await editor.getByTestId('preset-editor-temperature').fill('0.45');
    await editor.getByTestId('preset-editor-topK').fill('abc');
    await editor.getByTestId('preset-editor-save').click();
    await editor.locator('.preset-editor__error').first().waitFor();
    assert.match(await editor.locator('.preset-editor__error').first().innerText(), /whole number from 0 to 1000/);
    await editor.getByTestId('preset-editor-topK').fill('30');
    await editor.getByTestId('preset-editor-follow-maxReplyTokens').uncheck();
    await editor.getByTestId('preset-editor-maxReplyTokens').fill('40');
    await settled(page);
    await screenshot(page, 'presets-editor-light');
    assert.deepEqual(await axeViolations(page, '[data-testid="preset-editor"]'), []);
    await editor.getByTestId('preset-editor-save').click();
    await editor.getByTestId('preset-editor-name').waitFor({ state: 'detached' });

    const row = section.locator('[data-testid="preset-row"]', { hasText: 'Bedtime stories' });
    await row.waitFor();
    presetId = (await row.getAttribute('data-preset-id')) ?? '';
    assert.match(await row.innerText(), /Temperature 0\.45/);
    const stored = ((await apiCall(server, 'presets.list', {})) as Preset[]).find((p) => p.id === presetId)!;
    assert.deepEqual(
      { name: stored.name, systemPrompt: stored.systemPrompt, temperature: stored.temperature, topK: stored.topK, maxReplyTokens: stored.maxReplyTokens, contextSize: stored.contextSize },
      { name: 'Bedtime stories', systemPrompt: 'You tell calm, short stories for children.', temperature: 0.45, topK: 30, maxReplyTokens: 40, contextSize: null },
    );

    // A taken name is refused in the editor, and nothing is stored.
    await section.getByTestId('new-preset').click();
    await editor.getByTestId('preset-editor-name').fill('bedtime STORIES');
    await editor.getByTestId('preset-editor-save').click();
    await editor.locator('.preset-editor__error', { hasText: /already exists/ }).waitFor();
    await page.keyboard.press('Escape');
    await editor.getByTestId('preset-editor-name').waitFor({ state: 'detached' });
    assert.equal(((await apiCall(server, 'presets.list', {})) as Preset[]).length, 4);

    await section.scrollIntoViewIfNeeded();
    await settled(page);
    await screenshot(page, 'presets-settings-light');
    assert.deepEqual(await axeViolations(page, '[data-testid="presets-settings"]'), []);
    await page.keyboard.press('Escape');
    await section.waitFor({ state: 'detached' });
  });

  test('the new preset is in the header picker; choosing it keeps the chat\'s temperature override', async () => {
    await trigger().click();
    const option = page.locator(`[data-testid="preset-option"][data-preset-id="${presetId}"]`);
    await option.waitFor();
    assert.match(await option.innerText(), /Bedtime stories/);
    await option.click();
    await page.locator(`[data-testid="preset-picker"][data-preset="${presetId}"]`).waitFor();
    assert.equal(await page.getByTestId('param-maxReplyTokens').inputValue(), '40');
    assert.equal(await page.getByTestId('param-systemPrompt').inputValue(), 'You tell calm, short stories for children.');
    const c = await conversation();
    assert.equal(c.presetId, presetId);
    assert.deepEqual(c.overrides, { temperature: 1.35 });
    await page.keyboard.press('Escape');
    // The chat shows the system prompt its replies now use.
    assert.match(await page.locator('.system-note').innerText(), /System prompt/);
  });

  test('after a server restart the preset and the chat\'s choice are kept', async () => {
    await server.stop();
    server = await startWebProcess({ dataDir, modelsDir });
    await page.goto(server.url);
    const item = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
    await item.waitFor();
    await item.click();
    await page.locator('[data-testid="message"][data-role="user"]').first().waitFor();
    await page.locator(`[data-testid="preset-picker"][data-preset="${presetId}"]`).waitFor();
    assert.match(await trigger().innerText(), /Bedtime stories/);
    await page.locator('[data-testid="preset-picker"].has-overrides').waitFor();
    await trigger().click();
    assert.equal(await page.getByTestId('param-temperature').inputValue(), '1.35');
    await page.keyboard.press('Escape');
  });

  test('the panel, the section and the editor pass axe in the dark theme too', async () => {
    await setTheme('dark');
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`).click();
    await page.locator(`[data-testid="preset-picker"][data-preset="${presetId}"]`).waitFor();
    await trigger().click();
    await panel().waitFor();
    await settled(page);
    await screenshot(page, 'presets-panel-dark');
    assert.deepEqual(await axeViolations(page, '[data-testid="preset-panel"]'), []);
    await page.keyboard.press('Escape');

    await page.getByTestId('settings').click();
    const section = page.getByTestId('presets-settings');
    await section.scrollIntoViewIfNeeded();
    await settled(page);
    await screenshot(page, 'presets-settings-dark');
    assert.deepEqual(await axeViolations(page, '[data-testid="presets-settings"]'), []);
    await section.locator(`[data-testid="preset-row"][data-preset-id="${presetId}"]`).getByTestId('edit-preset').click();
    const editor = page.getByTestId('preset-editor');
    await editor.getByTestId('preset-editor-name').waitFor();
    assert.equal(await editor.getByTestId('preset-editor-name').inputValue(), 'Bedtime stories');
    await settled(page);
    await screenshot(page, 'presets-editor-dark');
    assert.deepEqual(await axeViolations(page, '[data-testid="preset-editor"]'), []);
    await editor.getByRole('button', { name: 'Cancel' }).click();
    await editor.getByTestId('preset-editor-name').waitFor({ state: 'detached' });
  });

  test('deleting the preset asks first, then the chat goes back to Default with its override', async () => {
    const section = page.getByTestId('presets-settings');
    await section.locator(`[data-testid="preset-row"][data-preset-id="${presetId}"]`).getByTestId('delete-preset').click();
    const confirm = page.getByTestId('delete-preset-dialog');
    await confirm.getByTestId('confirm-delete-preset').waitFor();
    assert.match(await confirm.innerText(), /Delete “Bedtime stories”\?/);
    await confirm.getByTestId('confirm-delete-preset').click();
    await section.locator(`[data-testid="preset-row"][data-preset-id="${presetId}"]`).waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="preset-picker"][data-preset="default"]').waitFor();
    const c = await conversation();
    assert.equal(c.presetId, null);
    assert.deepEqual(c.overrides, { temperature: 1.35 });
    await setTheme('light');
  });
});
