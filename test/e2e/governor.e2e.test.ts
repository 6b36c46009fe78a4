/**
 * The power governor's UI in real Chromium against the browser mode (`npm run web`'s command in a child
 * process) with the generated model ladder (the random `wattwise-ladder` family: 3 sizes × F16, Q8_0,
 * Q4_0). This machine reports no battery, so it is on AC and the AC profile applies.
 *
 * A new chat is in Auto: its reply comes from the variant Performance chooses, and the header says so;
 * switching the header's profile to Saver changes the decision and the settings, and the next reply
 * of the same chat records the Saver variant; pinning a model in the picker turns the governor off for
 * the chat until "Use Auto"; the Governor view lists every candidate with the chosen one highlighted and
 * draws them on the energy-vs-quality chart; its settings form validates like the contract.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ConversationDetail, GovernorDecision, Message, Settings } from '../../shared/contract.js';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { tempDir } from '../helpers/runtime.js';
import { generateLadder, ladderDir, RANDOM_FAMILY, type LadderModel } from '../fixtures/ladder/ladder.js';

describe('power governor UI in the browser mode', () => {
  const tmp = tempDir('wattwise-governor-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let ladder: LadderModel[] = [];
  let conversationId = '';
  let performanceChoice: GovernorDecision;
  let saverChoice: GovernorDecision;

  before(async () => {
    mkdirSync(modelsDir);
    ladder = (await generateLadder({ outDir: ladderDir(), storiesQuantizations: [] })).filter((m) => m.family === RANDOM_FAMILY);
    assert.ok(ladder.length >= 6, `the ladder has its random family (${ladder.length} files)`);
    for (const m of ladder) symlinkSync(m.path, join(modelsDir, basename(m.path)));
    server = await startWebProcess({ dataDir, modelsDir });
    const settings = (await apiCall(server, 'settings.get', {})) as Settings;
    // One thread and short replies keep the 2-core machine usable. No switch interval: this test switches
    // profiles within seconds and expects the next reply to follow (the interval has its own unit tests).
    await apiCall(server, 'settings.update', {
      threads: 1,
      maxReplyTokens: 16,
      governor: { ...settings.governor, acProfile: 'performance', minSwitchIntervalMinutes: 0 },
    });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const assistantMessages = () => page.locator('[data-testid="message"][data-role="assistant"]');
  const decisionLine = () => page.getByTestId('governor-decision');
  const decide = () => apiCall(server, 'governor.decide', {}) as Promise<GovernorDecision>;
  const conversation = () => apiCall(server, 'conversations.get', { id: conversationId }) as Promise<ConversationDetail>;
  /** The conversation's pinned model once it equals `expected` (polled for up to 5 s), else its last value. */
  const pinnedEventually = async (expected: string | null): Promise<string | null> => {
    let value: string | null = null;
    for (let i = 0; i < 50; i++) {
      value = (await conversation()).conversation.pinnedModelPath;
      if (value === expected) break;
      await page.waitForTimeout(100);
    }
    return value;
  };
  const lastReply = async (): Promise<Message> => {
    const reply = (await conversation()).messages.filter((m) => m.role === 'assistant').pop();
    assert.ok(reply, 'the conversation has a reply');
    return reply;
  };

  /** Sends `text` in the open chat and waits for the reply to complete; returns its footer text. */
  const sendAndWait = async (text: string): Promise<string> => {
    const before = await assistantMessages().count();
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('send').click();
    const reply = assistantMessages().nth(before);
    await reply.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 90_000 });
    return reply.getByTestId('message-stats').innerText();
  };

  test('a new chat is in Auto, and its reply comes from the variant Performance chooses', async () => {
    const switcher = page.getByTestId('profile-switcher');
    await switcher.waitFor();
    assert.equal(await page.getByTestId('profile-option').count(), 4);
    const performance = switcher.locator('[data-testid="profile-option"][data-profile="performance"]');
    assert.equal(await performance.getAttribute('aria-pressed'), 'true');
    assert.equal(await performance.getAttribute('data-selected'), 'true');
    assert.match(await page.getByTestId('power-hint').innerText(), /on AC/);
    assert.equal(await page.getByTestId('model-picker').getAttribute('data-mode'), 'auto');

    performanceChoice = await decide();
    assert.equal(performanceChoice.profile, 'performance');
    const chosen = performanceChoice.chosen;
    assert.ok(chosen, 'Performance chose a variant');
    assert.ok(chosen.quantization, 'the chosen variant has a quantization');
    // The header shows the variant, its quantization and the reason.
    await page.locator(`[data-testid="governor-decision"][data-model-path="${chosen.modelPath}"]`).waitFor();
    const line = await decisionLine().innerText();
    assert.ok(line.includes(chosen.name), `decision line names ${chosen.name}: ${line}`);
    assert.ok(line.includes(chosen.quantization), `decision line shows ${chosen.quantization}: ${line}`);
    assert.equal(await page.getByTestId('governor-reason').textContent(), performanceChoice.reason);
    assert.match(await page.getByTestId('model-picker').innerText(), new RegExp(`Auto · ${escape(chosen.name)}`));

    const footer = await sendAndWait('Tell me a short story');
    assert.ok(footer.includes(chosen.name) && footer.includes(chosen.quantization), `footer shows ${chosen.name} ${chosen.quantization}: ${footer}`);
    const mark = assistantMessages().last().getByTestId('message-governor');
    assert.equal(await mark.getAttribute('data-profile'), 'performance');
    assert.match((await mark.getAttribute('title')) ?? '', /Performance/);

    conversationId = (await page.getByTestId('conversation-item').first().getAttribute('data-conversation-id')) ?? '';
    assert.ok(conversationId);
    const detail = await conversation();
    assert.equal(detail.conversation.pinnedModelPath, null, 'sending in Auto did not pin a model');
    const reply = await lastReply();
    assert.equal(reply.stats?.modelPath, chosen.modelPath);
    assert.equal(reply.governor?.profile, 'performance');
  });

  test('switching the header to Saver changes the decision and the AC profile', async () => {
    const before = await decisionLine().innerText();
    await screenshot(page, 'governor-chat-performance');
    await page.locator('[data-testid="profile-option"][data-profile="saver"]').click();
    await page.locator('[data-testid="profile-option"][data-profile="saver"][aria-pressed="true"]').waitFor();
    assert.equal(await page.locator('[data-testid="profile-option"][aria-pressed="true"]').count(), 1, 'one option is selected');
    await page.locator('[data-testid="governor-decision"][data-profile="saver"][aria-busy="false"]').waitFor({ timeout: 15_000 });

    const settings = (await apiCall(server, 'settings.get', {})) as Settings;
    assert.equal(settings.governor.acProfile, 'saver');
    assert.equal(settings.governor.batteryProfile, 'balanced', 'the battery profile is untouched');

    saverChoice = await decide();
    const chosen = saverChoice.chosen;
    assert.ok(chosen?.quantization);
    assert.equal(saverChoice.profile, 'saver');
    assert.notEqual(chosen.modelPath, performanceChoice.chosen?.modelPath, 'Saver chose another variant');
    assert.notEqual(chosen.quantization, performanceChoice.chosen?.quantization, 'of another quantization');
    await page.locator(`[data-testid="governor-decision"][data-model-path="${chosen.modelPath}"]`).waitFor();
    const after = await decisionLine().innerText();
    assert.notEqual(after, before);
    assert.ok(after.includes(chosen.name) && after.includes(chosen.quantization), `decision line: ${after}`);
    assert.ok(after.includes('Saver'), `decision line names the profile: ${after}`);
    assert.equal(await page.getByTestId('governor-reason').textContent(), saverChoice.reason);
    assert.notEqual(saverChoice.reason, performanceChoice.reason);

    // The reason in full, on click.
    await page.locator('.gov-line__trigger').click();
    const popover = page.locator('.gov-popover');
    await popover.waitFor();
    assert.ok((await popover.innerText()).includes(saverChoice.reason));
    await page.waitForTimeout(300); // the popover's fade-in
    await screenshot(page, 'governor-chat-header');
    await page.keyboard.press('Escape');
    await popover.waitFor({ state: 'detached' });
  });

  test('the next reply of the same chat records the Saver variant', async () => {
    const chosen = saverChoice.chosen!;
    const footer = await sendAndWait('And then what happened?');
    assert.ok(footer.includes(chosen.quantization!), `footer shows ${chosen.quantization}: ${footer}`);
    const reply = await lastReply();
    assert.equal(reply.governor?.profile, 'saver');
    assert.equal(reply.stats?.modelPath, chosen.modelPath, `the reply came from ${chosen.fileName} (${reply.governor?.reason})`);
    assert.notEqual(reply.stats?.modelPath, performanceChoice.chosen?.modelPath, 'not the first reply’s variant');
    assert.equal(await assistantMessages().last().getByTestId('message-governor').getAttribute('data-profile'), 'saver');
    // The first reply keeps its own record.
    assert.equal(await assistantMessages().first().getByTestId('message-governor').getAttribute('data-profile'), 'performance');
  });

  test('pinning a model turns the governor off for the chat; Use Auto turns it back on', async () => {
    const chosen = saverChoice.chosen!;
    const pick = ladder.find((m) => m.path !== chosen.modelPath && m.path !== performanceChoice.chosen?.modelPath && m.shapeKey === 'xs');
    assert.ok(pick, 'a third variant to pin');
    const pickPath = join(modelsDir, basename(pick.path));
    await page.getByTestId('model-picker').click();
    const auto = page.getByTestId('model-option-auto');
    await auto.waitFor();
    assert.equal(await auto.getAttribute('aria-selected'), 'true', 'Auto is the current choice');
    assert.match(await auto.innerText(), /Saver now picks/);
    await page.waitForTimeout(300); // the popover's fade-in
    await screenshot(page, 'governor-model-picker');
    await page.locator(`[data-testid="model-option"][data-model-path="${pickPath}"]`).click();
    await page.locator('[data-testid="governor-decision"][data-pinned="true"]').waitFor();
    assert.match(await decisionLine().innerText(), /Pinned: .*governor is off for this chat/s);
    assert.equal(await page.getByTestId('model-picker').getAttribute('data-mode'), 'pinned');
    // The UI shows the pin at once; the backend has it when conversations.pin answers.
    assert.equal(await pinnedEventually(pickPath), pickPath);
    await screenshot(page, 'governor-chat-pinned');

    const footer = await sendAndWait('Once more, please');
    assert.match(footer, /pinned/);
    const reply = await lastReply();
    assert.equal(reply.stats?.modelPath, pickPath);
    assert.equal(reply.governor, null, 'a pinned reply records no governor decision');
    assert.equal(await assistantMessages().last().getByTestId('message-governor').getAttribute('data-profile'), 'pinned');

    await page.getByTestId('unpin').click();
    await page.locator('[data-testid="governor-decision"][data-pinned="false"]').waitFor();
    // The replies measured their models, so Saver's choice may differ from before: the line follows it.
    const now = await decide();
    await page.locator(`[data-testid="governor-decision"][data-model-path="${now.chosen?.modelPath}"]`).waitFor();
    assert.equal(await page.getByTestId('model-picker').getAttribute('data-mode'), 'auto');
    assert.equal(await pinnedEventually(null), null);
  });

  test('a new chat starts in Auto; a model picked before sending creates it pinned', async () => {
    await page.getByTestId('new-chat').click();
    await page.locator('[data-testid="model-picker"][data-mode="auto"]').waitFor();
    const pick = ladder.find((m) => m.shapeKey === 'xs' && m.quantization === 'Q4_0');
    assert.ok(pick);
    const pickPath = join(modelsDir, basename(pick.path));
    await page.getByTestId('model-picker').click();
    await page.locator(`[data-testid="model-option"][data-model-path="${pickPath}"]`).click();
    await page.locator('[data-testid="model-picker"][data-mode="pinned"]').waitFor();
    await sendAndWait('Hello');
    const id = (await page.getByTestId('conversation-item').first().getAttribute('data-conversation-id')) ?? '';
    assert.ok(id && id !== conversationId, 'a new conversation');
    const detail = (await apiCall(server, 'conversations.get', { id })) as ConversationDetail;
    assert.equal(detail.conversation.pinnedModelPath, pickPath);
    // And the next new chat is in Auto again.
    await page.getByTestId('new-chat').click();
    await page.locator('[data-testid="model-picker"][data-mode="auto"]').waitFor();
    await page.locator('[data-testid="governor-decision"][data-pinned="false"]').waitFor();
    assert.match(await page.locator('.welcome__subtitle').innerText(), /power governor picks the model/);
    await page.waitForTimeout(400); // the welcome's fade-in
    await screenshot(page, 'governor-new-chat');
    // A narrow window: the switcher keeps its icons (names in tooltips and labels), the decision stays.
    await page.setViewportSize({ width: 1000, height: 760 });
    await page.locator('[data-testid="profile-option"][data-profile="balanced"]').waitFor();
    assert.equal(await page.locator('[data-testid="profile-option"][data-profile="balanced"]').getAttribute('aria-label'), 'Balanced');
    assert.ok(await page.getByTestId('governor-decision').isVisible());
    assert.ok((await page.locator('.chat__title').boundingBox())!.width >= 90, 'the chat title keeps room');
    await screenshot(page, 'governor-chat-narrow');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test('the Governor view lists every candidate, highlights the chosen one and draws the chart', async () => {
    await page.getByTestId('governor-nav').click();
    await page.getByTestId('governor-view').waitFor();
    const decision = await decide();
    const rows = page.getByTestId('governor-row');
    await rows.first().waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="governor-row"]').length === n, decision.candidates.length);
    const paths = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-model-path')));
    assert.deepEqual([...paths].sort(), decision.candidates.map((c) => c.modelPath).sort(), 'one row per candidate');
    const chosenRows = page.locator('[data-testid="governor-row"][data-chosen="true"]');
    assert.equal(await chosenRows.count(), 1);
    assert.equal(await chosenRows.getAttribute('data-model-path'), decision.chosen?.modelPath);
    assert.match((await chosenRows.getAttribute('class')) ?? '', /is-chosen/);
    assert.match(await chosenRows.innerText(), /chosen/);
    assert.equal(await page.locator('[data-testid="governor-row"] .gov-chosen-tag').count(), 1, 'one row is marked chosen');
    // Measured after the replies above: at least one row says so, and the others say "predicted".
    const tableText = await page.locator('.gov-table').innerText();
    assert.match(tableText, /measured/);
    assert.match(tableText, /predicted/);
    assert.equal(await page.getByTestId('governor-reason-full').innerText(), decision.reason);

    const points = page.locator('[data-testid="governor-chart"] svg circle.gov-point');
    await points.first().waitFor();
    assert.equal(await points.count(), decision.candidates.length, 'one point per candidate');
    const chosenPoint = page.locator('[data-testid="governor-chart"] svg circle.gov-point--chosen');
    assert.equal(await chosenPoint.count(), 1);
    assert.equal(await chosenPoint.getAttribute('data-model-path'), decision.chosen?.modelPath);
    assert.ok(Number(await chosenPoint.getAttribute('cx')) > 0, 'the chosen point is placed');
    assert.match(await page.locator('[data-testid="governor-chart"] .gov-point__label').textContent() ?? '', new RegExp(escape(decision.chosen!.name)));
    await screenshot(page, 'governor-view');
    await page.getByTestId('governor-chart').scrollIntoViewIfNeeded();
    await screenshot(page, 'governor-view-chart');

    // "What would Performance choose?" previews without changing anything.
    await page.getByTestId('governor-preview').selectOption('performance');
    await page.locator('[data-testid="governor-decision-card"][data-preview="true"][data-profile="performance"]').waitFor();
    const previewChosen = page.locator('[data-testid="governor-row"][data-chosen="true"]');
    await page.waitForFunction(
      (path) => document.querySelector('[data-testid="governor-row"][data-chosen="true"]')?.getAttribute('data-model-path') === path,
      performanceChoice.chosen?.modelPath ?? '',
    );
    assert.equal(await previewChosen.getAttribute('data-model-path'), performanceChoice.chosen?.modelPath);
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).governor.acProfile, 'saver', 'a preview changes nothing');
    await page.getByRole('button', { name: 'Back to current' }).click();
    await page.locator('[data-testid="governor-decision-card"][data-preview="false"][data-profile="saver"]').waitFor();

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // colour transitions
    await screenshot(page, 'governor-view-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1000, height: 760 });
    await page.waitForTimeout(200);
    await screenshot(page, 'governor-view-narrow');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test('the switcher works from the keyboard', async () => {
    await page.getByTestId('new-chat').click();
    const saver = page.locator('[data-testid="profile-option"][data-profile="saver"]');
    await saver.focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-profile')), 'balanced');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="profile-option"][data-profile="balanced"][aria-pressed="true"]').waitFor();
    await page.locator('[data-testid="governor-decision"][data-profile="balanced"][aria-busy="false"]').waitFor();
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).governor.acProfile, 'balanced');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    await page.locator('[data-testid="profile-option"][data-profile="saver"][aria-pressed="true"]').waitFor();
    await page.locator('[data-testid="governor-decision"][data-profile="saver"][aria-busy="false"]').waitFor();
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).governor.acProfile, 'saver');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // colour transitions
    await screenshot(page, 'governor-chat-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByTestId('governor-nav').click();
    await page.getByTestId('governor-view').waitFor();
  });

  test('the settings form validates like the contract and saves the whole governor object', async () => {
    const cap = page.getByTestId('governor-wattCapW');
    await cap.scrollIntoViewIfNeeded();
    await cap.fill('lots');
    await page.getByTestId('governor-minQuality').fill('1.5');
    await page.getByTestId('governor-save').click();
    const errors = page.locator('.gov-form .field__error');
    await errors.first().waitFor();
    const text = (await errors.allInnerTexts()).join('\n');
    assert.match(text, /watts/);
    assert.match(text, /quality from 0 to 1/);
    assert.equal(await cap.getAttribute('aria-invalid'), 'true');
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).governor.custom.wattCapW, null, 'nothing saved');
    await screenshot(page, 'governor-settings-errors');

    await cap.fill('12.5');
    await page.getByTestId('governor-minQuality').fill('0.6');
    await page.getByTestId('governor-save').click();
    await page.locator('.gov-form__status', { hasText: 'Saved' }).waitFor();
    const saved = ((await apiCall(server, 'settings.get', {})) as Settings).governor;
    assert.equal(saved.custom.wattCapW, 12.5);
    assert.equal(saved.custom.minQuality, 0.6);
    assert.equal(saved.acProfile, 'saver', 'the rest of the object is kept');
    assert.equal(saved.minSwitchIntervalMinutes, 0);
  });
});

/** `text` with the regular-expression specials escaped. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
