/**
 * The composer in real Chromium against the browser mode with the kit's stories260K model: text files are
 * attached through the picker, a drop and a paste; binary and oversize files are refused with a sentence;
 * the sent message holds the file as a fenced block and shows it as a card; the context meter counts the
 * draft and the history (it moves after a reply) and says what happens when the context is full, for the
 * overflow setting chosen in Settings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical WCAG 2.1 A/AA violations inside the composer and the user messages, one
 * line each ('' when none). Evaluated through the DevTools protocol: the app's CSP refuses inline scripts.
 */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = (await page.evaluate(
    `window.axe.run({ include: [['.chat__bottom'], ['.msg--user']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })`,
  )) as { violations: { id: string; impact: string | null; nodes: { target: unknown[]; failureSummary?: string }[] }[] };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} on ${n.target.map(String).join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ')}`));
}

/**
 * Screenshots in the light and the dark theme, each once the theme's transitions have ended, with an axe
 * check of the composer and the user messages in each theme.
 */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(400);
    await screenshot(page, `${name}-${scheme}`);
    assert.deepEqual(await axeViolations(page), [], `accessibility of ${name} in the ${scheme} theme`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const notes = '# Garden plan\n\n- Plant tomatoes in May\n- Water the beans every morning\n\n```sh\necho "not the end of the file"\n```\n';
// A PNG header: not text, whatever the picker says.
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

describe('composer: text attachments and the context meter', () => {
  const tmp = tempDir('wattwise-e2e-composer-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    server = await startWebProcess({ dataDir, modelsDir });
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 48, contextSize: 2048 });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const meter = () => page.getByTestId('context-meter');
  /** The meter's "used / size" figures. */
  async function meterFigures(): Promise<{ used: number; size: number; approx: boolean }> {
    const label = await page.getByTestId('context-meter-label').innerText();
    const m = /^(≈ )?([\d,]+) \/ ([\d,]+) tokens$/.exec(label.trim());
    assert.ok(m, `meter label: ${label}`);
    return { used: Number(m[2]!.replace(/,/g, '')), size: Number(m[3]!.replace(/,/g, '')), approx: Boolean(m[1]) };
  }
  /** Waits until the meter's used count satisfies `check`. */
  async function waitForUsed(check: (used: number) => boolean, what: string): Promise<number> {
    const deadline = Date.now() + 15_000;
    let last = -1;
    while (Date.now() < deadline) {
      if (await meter().isVisible()) {
        last = (await meterFigures()).used;
        if (check(last)) return last;
      }
      await page.waitForTimeout(100);
    }
    assert.fail(`context meter never showed ${what} (last: ${last})`);
  }

  let emptyChatUsed = 0;

  test('the meter shows the new chat’s context and counts the draft as it is typed', async () => {
    await meter().waitFor({ timeout: 20_000 });
    const start = await meterFigures();
    assert.equal(start.size, 2048);
    emptyChatUsed = start.used;
    await page.getByTestId('composer').fill('Tell me a story about a small dragon who learns to fly over the mountains');
    const typed = await waitForUsed((u) => u > start.used, 'the typed draft');
    assert.ok(typed - start.used >= 5, `the draft counts (${start.used} → ${typed})`);
    await page.getByTestId('composer').fill('');
    await waitForUsed((u) => u === start.used, 'the empty draft again');
  });

  test('a Markdown file is attached from the picker; a PNG and a binary blob are refused by name', async () => {
    const before = (await meterFigures()).used;
    await page.getByTestId('attach-input').setInputFiles([
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from(notes) },
      { name: 'photo.png', mimeType: 'image/png', buffer: png },
      { name: 'blob.dat', mimeType: 'application/octet-stream', buffer: Buffer.from([0x41, 0x00, 0x42, 0x0a]) },
    ]);
    const chips = page.getByTestId('attachment-chip');
    await chips.first().waitFor();
    assert.equal(await chips.count(), 1);
    const chip = await chips.first().innerText();
    assert.match(chip, /notes\.md/);
    assert.match(chip, /\d+ B · ≈\d+ tokens/);
    const refusals = page.getByTestId('attachment-refusal');
    assert.deepEqual(await refusals.allInnerTexts(), ['photo.png is not a text file.', 'blob.dat is not a text file.']);
    // The file counts against the context with the typed text.
    await waitForUsed((u) => u > before + 20, 'the attached file');
    assert.match((await page.getByTestId('composer').getAttribute('placeholder')) ?? '', /attached/);
    await screenshots(page, 'composer-attachments');
  });

  test('an oversize file is refused with its size and the limit', async () => {
    await page.getByTestId('attach-input').setInputFiles([{ name: 'big.log', mimeType: 'text/plain', buffer: Buffer.alloc(3_200_000, 0x61) }]);
    await page.getByTestId('attachment-refusal').filter({ hasText: 'big.log' }).waitFor();
    assert.deepEqual(await page.getByTestId('attachment-refusal').allInnerTexts(), ['big.log is 3.2 MB; the limit is 190 kB.']);
    // Dismissing it by keyboard: the button is named after the file.
    await page.getByRole('button', { name: 'Dismiss the note about big.log' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByTestId('attachment-refusal').count(), 0);
    assert.equal(await page.getByTestId('attachment-chip').count(), 1, 'the accepted file stays');
  });

  test('files dropped on the window and pasted into the box are attached; chips are removed by keyboard', async () => {
    // Dragged over the chat (not the box itself), the composer shows where the files go.
    const overChat = await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['name,kg\nbeans,2\n'], 'harvest.csv', { type: 'text/csv' }));
      (window as unknown as { __transfer: DataTransfer }).__transfer = transfer;
      const target = document.querySelector('.chat__scroll')!;
      target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      const over = new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true });
      target.dispatchEvent(over);
      return over.defaultPrevented;
    });
    assert.equal(overChat, true, 'the window accepts the drop (the browser would open the file otherwise)');
    await page.locator('.composer__drop').waitFor();
    await screenshots(page, 'composer-drop');
    await page.evaluate(() => {
      const transfer = (window as unknown as { __transfer: DataTransfer }).__transfer;
      document.querySelector('.chat__scroll')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await page.locator('.composer__drop').waitFor({ state: 'detached' });
    await page.getByTestId('attachment-chip').filter({ hasText: 'harvest.csv' }).waitFor();
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['fn main() {}\n'], 'main.rs', { type: '' }));
      document.querySelector('[data-testid="composer"]')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('attachment-chip').filter({ hasText: 'main.rs' }).waitFor();
    assert.equal(await page.getByTestId('composer').inputValue(), '', 'a pasted file is not pasted as text');
    assert.deepEqual(await page.locator('.attachment-chip__name').allInnerTexts(), ['notes.md', 'harvest.csv', 'main.rs']);
    for (const name of ['harvest.csv', 'main.rs']) {
      await page.getByRole('button', { name: `Remove ${name}` }).focus();
      await page.keyboard.press('Enter');
    }
    assert.equal(await page.getByTestId('attachment-chip').count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Attach text files' }).count(), 1);
  });

  let afterReplyUsed = 0;

  test('on send the file becomes a fenced block with its name; the message shows it as a card; the meter moves after the reply', async () => {
    await page.getByTestId('composer').fill('What should I plant in May?');
    await page.getByTestId('composer').press('Enter');
    const user = page.locator('[data-testid="message"][data-role="user"]').last();
    await user.waitFor();
    assert.equal(await page.getByTestId('attachment-chip').count(), 0, 'the chips go with the message');
    assert.equal(await user.getByTestId('message-file-name').innerText(), 'notes.md');
    assert.match(await user.getByTestId('message-content').innerText(), /What should I plant in May\?/);
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await reply.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 90_000 });

    // What was stored (and sent to the model): the name in bold, a fence longer than the file's own, the question after.
    const item = page.getByTestId('conversation-item').first();
    const conversationId = (await item.getAttribute('data-conversation-id')) ?? '';
    assert.match(await item.innerText(), /What should I plant in May\?/, 'the chat is named by the question, not the file');
    const detail = (await apiCall(server, 'conversations.get', { id: conversationId })) as { messages: { role: string; content: string }[] };
    const stored = detail.messages.find((m) => m.role === 'user')?.content;
    assert.equal(stored, `**notes.md**\n\`\`\`\`markdown\n${notes}\`\`\`\`\n\nWhat should I plant in May?`);

    afterReplyUsed = await waitForUsed((u) => u > emptyChatUsed + 40, 'the history after the reply');
    await screenshots(page, 'composer-sent-file');

    // The card opens to show the file, by keyboard too.
    assert.equal(await user.locator('.msg-file__body').isVisible(), false);
    await user.getByTestId('message-file').locator('summary').focus();
    await page.keyboard.press('Enter');
    assert.match(await user.locator('.msg-file__body').innerText(), /Water the beans every morning/);
    await screenshots(page, 'composer-sent-file-open');
  });

  test('a small context is full and says what the overflow setting will do; Settings changes the setting', async () => {
    await apiCall(server, 'settings.update', { contextSize: 128 });
    // Unloaded, the model's context is the setting's and the counts are estimates (shown with "≈"); the
    // meter asks again when the engine's state changes and when the draft changes.
    await apiCall(server, 'engine.unload', {});
    await page.getByTestId('composer').fill('And in June?');
    const notice = page.getByTestId('context-notice');
    await notice.waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      throw new Error(`no notice; meter: ${await page.getByTestId('context-meter-label').innerText()} (${await meter().getAttribute('aria-label')})`, { cause: error });
    });
    assert.equal(await notice.innerText(), 'Oldest messages will be dropped to make room.');
    const small = await meterFigures();
    assert.equal(small.size, 128);
    assert.equal(small.approx, true);
    assert.ok(small.used > 96, `the history with the file fills most of 128 tokens (${small.used}; ${afterReplyUsed} counted exactly before)`);
    assert.equal(await meter().getAttribute('data-tone'), 'full');

    await page.getByTestId('settings').click();
    const overflow = page.getByTestId('context-overflow');
    await overflow.waitFor();
    assert.equal(await overflow.inputValue(), 'rolling-window', 'rolling window is the default');
    await page.getByLabel('When the context is full').selectOption('stop');
    assert.match(await page.getByTestId('settings-dialog').innerText(), /the reply stops when the context is full/);
    await overflow.scrollIntoViewIfNeeded();
    await screenshots(page, 'composer-settings-overflow');
    await page.getByTestId('save-settings').click();
    await page.getByTestId('settings-dialog').waitFor({ state: 'hidden' });
    await page.getByText('The context is full: start a new chat or shorten your message.').waitFor({ timeout: 15_000 });
    assert.equal(await meter().getAttribute('data-tone'), 'blocked');
    assert.equal(((await apiCall(server, 'settings.get', {})) as { contextOverflow: string }).contextOverflow, 'stop');

    // The breakdown shows on keyboard focus.
    await meter().focus();
    await page.locator('.context-meter__details').waitFor({ state: 'visible' });
    assert.match(await page.locator('.context-meter__details').innerText(), /Kept for the reply/);
    await screenshots(page, 'composer-context-full');
  });

  test('a message over the 200,000-character limit cannot be sent and says why', async () => {
    await page.getByTestId('attach-input').setInputFiles([{ name: 'max.txt', mimeType: 'text/plain', buffer: Buffer.alloc(190_000, 0x61) }]);
    await page.getByTestId('attachment-chip').filter({ hasText: 'max.txt' }).waitFor();
    await page.getByTestId('composer').fill('b'.repeat(12_000));
    const tooLong = page.getByTestId('message-too-long');
    await tooLong.waitFor();
    assert.match(await tooLong.innerText(), /^The message is 202,0\d\d characters long; the limit is 200,000\. Remove an attachment or shorten the text\.$/);
    assert.equal(await page.getByTestId('send').isDisabled(), true);
    await page.getByTestId('composer').press('Enter');
    assert.equal(await page.locator('[data-testid="message"][data-role="user"]').count(), 1, 'Enter sends nothing');
    await page.getByRole('button', { name: 'Remove max.txt' }).click();
    await tooLong.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('send').isDisabled(), false);
    await page.getByTestId('composer').fill('');
  });

  test('the middle-truncation setting has its own sentence', async () => {
    await apiCall(server, 'settings.update', { contextOverflow: 'truncate-middle' });
    await page.getByTestId('composer').fill('And in July?');
    await page.getByText('The middle of the conversation will be dropped; your first message stays.').waitFor({ timeout: 15_000 });
    await apiCall(server, 'settings.update', { contextSize: 2048, contextOverflow: 'rolling-window' });
  });
});
