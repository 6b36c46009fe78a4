/**
 * Export, import and backups in real Chromium against the browser mode (`npm run web`'s command in a child
 * process), on a data folder written by the real store: the chat header's Export… menu downloads the open
 * conversation as Markdown (with each reply's model and energy) and as JSON; Settings → Data imports that JSON
 * (the conversation comes back in the sidebar), refuses a foreign file with a clear message, backs up (the backup is
 * listed with its size) and stages a restore that the next start carries out. Screenshots in light and dark.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ConversationSummary } from '../../shared/contract.js';
import type { BackupList } from '../../shared/dataContract.js';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { tempDir } from '../helpers/runtime.js';
import { seedHistory } from '../helpers/archiveData.js';

describe('export, import and backups in the browser mode', () => {
  const tmp = tempDir('wattwise-archive-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let seeded: ReturnType<typeof seedHistory>;
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let jsonPath = '';

  before(async () => {
    mkdirSync(modelsDir, { recursive: true });
    seeded = seedHistory(dataDir, Date.now() - 3_600_000);
    server = await startWebProcess({ dataDir, modelsDir });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  /** Light and dark screenshots of what is on screen now. */
  async function shoot(name: string) {
    // Colour transitions would be caught half-way in the dark shot (headless Chromium runs few frames): the app's
    // reduced-motion styles make them instant.
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    await page.waitForTimeout(400);
    await screenshot(page, name);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // colour transitions
    await screenshot(page, `${name}-dark`);
    await page.emulateMedia({ colorScheme: 'light' });
  }

  const openConversation = async (id: string) => {
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"] .conv-row__main`).click();
    await page.locator('[data-testid="message"]').first().waitFor();
  };
  const dataSection = () => page.getByTestId('data-settings');

  test('Export… downloads the open conversation as Markdown, with each reply’s model and energy', async () => {
    await openConversation(seeded.conversationIds[0]!);
    const trigger = page.getByTestId('export-menu');
    assert.equal(await trigger.getAttribute('aria-label'), 'Export this conversation');
    // Keyboard: ArrowDown opens the menu with the first item focused; Esc closes it and focus returns.
    await trigger.focus();
    await page.keyboard.press('ArrowDown');
    await page.getByRole('menu', { name: 'Export this conversation as' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'export-md');
    await shoot('archive-export-menu');
    await page.keyboard.press('Escape');
    assert.equal(await page.getByRole('menu').count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'export-menu');

    await trigger.click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-md').click()]);
    assert.match(download.suggestedFilename(), /^wattwise-why-is-the-sky-blue-\d{4}-\d{2}-\d{2}\.md$/);
    const md = readFileSync((await download.path())!, 'utf8');
    assert.match(md, /^# Why is the sky blue\?\n/);
    assert.match(md, /> You are a physics teacher\./);
    assert.match(md, /Qwen2\.5 0\.5B Instruct Q4\\_K\\_M · 3\.75 J · 0\.15 J\/token · 25 tokens · 1\.80 s/);
    assert.equal(await page.getByRole('menu').count(), 0, 'the menu closes after the download');
  });

  test('Export… JSON downloads an archive; Settings → Data imports it back', async () => {
    await page.getByTestId('export-menu').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    assert.match(download.suggestedFilename(), /\.json$/);
    jsonPath = join(tmp.dir, download.suggestedFilename());
    await download.saveAs(jsonPath);
    const archive = JSON.parse(readFileSync(jsonPath, 'utf8')) as { format: string; conversations: Array<{ messages: unknown[] }> };
    assert.equal(archive.format, 'wattwise.conversations');
    assert.equal(archive.conversations[0]!.messages.length, 4);

    // The conversation is deleted, then imported back from the file.
    await apiCall(server, 'conversations.delete', { id: seeded.conversationIds[0]! });
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${seeded.conversationIds[0]}"]`).waitFor({ state: 'detached' });
    await page.getByTestId('settings').click();
    await dataSection().waitFor();
    await dataSection().scrollIntoViewIfNeeded();
    await page.getByTestId('import-file').setInputFiles(jsonPath);
    const result = page.getByTestId('import-result');
    await result.filter({ hasText: 'Imported 1 conversation (4 messages).' }).waitFor();
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${seeded.conversationIds[0]}"]`).waitFor();

    // A file from another app is refused, saying why; nothing is added.
    const foreign = join(tmp.dir, 'other-app.json');
    writeFileSync(foreign, JSON.stringify({ threads: [{ id: 1, title: 'elsewhere' }] }));
    await page.getByTestId('import-file').setInputFiles(foreign);
    await result.filter({ hasText: /other-app\.json” cannot be imported: not a Wattwise conversation export/ }).waitFor();
    assert.equal(await result.getAttribute('role'), 'alert');
    const list = (await apiCall(server, 'conversations.list', {})) as ConversationSummary[];
    assert.equal(list.length, 2);
  });

  test('Back up now lists the backup with its size; Restore… asks first, then says to restart', async () => {
    assert.equal(await page.getByTestId('backup-empty').innerText(), 'No backups yet.');
    await page.getByTestId('backup-now').click();
    await page.getByTestId('backup-result').filter({ hasText: /^Backed up \(\d+(\.\d+)? kB\)\.$/ }).waitFor();
    const rows = page.getByTestId('backup-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const listed = (await apiCall(server, 'backup.list', {})) as BackupList;
    assert.equal(listed.backups.length, 1);
    assert.equal(await rows.first().getAttribute('data-name'), listed.backups[0]!.name);
    assert.match(await rows.first().innerText(), /kB/);
    await dataSection().scrollIntoViewIfNeeded();
    await shoot('archive-settings-data');

    // Written after the backup: gone once it is restored.
    const later = (await apiCall(server, 'conversations.create', {})) as ConversationSummary;
    await rows.first().getByTestId('backup-restore').click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.getByRole('heading', { name: 'Restore this backup?' }).waitFor();
    assert.match(await dialog.innerText(), /The current database is kept beside it, so nothing is lost\./);
    await shoot('archive-restore-dialog');
    await dialog.getByTestId('restore-confirm').click();
    await page.getByTestId('restore-pending').filter({ hasText: /to finish restoring/ }).waitFor();
    assert.equal(((await apiCall(server, 'backup.list', {})) as BackupList).pendingRestore, listed.backups[0]!.name);
    await page.getByTestId('backup-list').scrollIntoViewIfNeeded();
    await shoot('archive-restore-pending');

    // The next start restores it.
    await browser.close();
    await server.stop();
    server = await startWebProcess({ dataDir, modelsDir });
    const after = (await apiCall(server, 'backup.list', {})) as BackupList;
    assert.equal(after.pendingRestore, null);
    assert.equal(after.lastRestore?.state, 'restored');
    const ids = ((await apiCall(server, 'conversations.list', {})) as ConversationSummary[]).map((c) => c.id);
    assert.ok(!ids.includes(later.id), 'what was written after the backup is gone');
    assert.deepEqual(ids.sort(), [...seeded.conversationIds].sort());
    ({ browser, page } = await openApp(server));
    await page.getByTestId('settings').click();
    await page.getByTestId('restore-outcome').filter({ hasText: /Restored the backup on .*: the previous database was kept as wattwise\.sqlite\.before-restore-/ }).waitFor();
  });
});
