/**
 * Accessibility of every view, in real Chromium against the browser mode (`npm run web`'s command in a
 * child process) with the kit's stories260K model and real content: a conversation whose first reply has
 * two versions ("Try with…", ‹ 2/2 › and its table) and whose second was stopped (its badge), so messages,
 * stats, energy footers and the Energy view's rows and both charts render.
 *
 * axe-core (injected from node_modules) checks the WCAG 2.0/2.1 A and AA rules on each view and on each
 * dialog, menu and popover reachable from the sidebar and the chat header — chat, "Try with…", the preset
 * panel, the export menu, the model picker, the power sources, the delete confirmation, an empty chat, the
 * composer with an attached and a refused file, Energy, Governor, Models, Settings (with a backup listed),
 * the restore confirmation and the preset editor — in the light and the dark theme. No violation of impact
 * "serious" or "critical" may remain (colour contrast, names and labels, ARIA); a failure prints each one with
 * its rule, impact, element and what axe says to fix. What axe cannot judge (SVG chart labels, text in a
 * top-layer dialog it thinks is covered) is checked for contrast by this test itself. A screenshot of each
 * view and theme goes to test-results/a11y-<view>-<theme>.png, the findings to test-results/a11y-<theme>.json.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AxeResults, Result } from 'axe-core';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { repoRoot, testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG levels checked: A and AA of 2.0 and 2.1. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** One serious or critical violation, on one element, in words. */
interface Finding {
  view: string;
  rule: string;
  impact: string;
  target: string;
  summary: string;
}

/** Runs axe on the whole page (once injected) and returns its serious and critical violations, one per element. */
async function audit(page: Page, view: string): Promise<Finding[]> {
  // Evaluated through the DevTools protocol: the app's Content-Security-Policy (script-src 'self') refuses
  // inline <script> tags, rightly, and must not be loosened for the test.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  // A string, so that the test's transpiler adds nothing to the function run in the page.
  const results = (await page.evaluate(
    `window.axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} }, resultTypes: ['violations'] })`,
  )) as AxeResults;
  const findings: Finding[] = [];
  for (const v of results.violations as Result[]) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    for (const node of v.nodes) {
      findings.push({
        view,
        rule: v.id,
        impact: v.impact,
        target: node.target.map(String).join(' '),
        summary: (node.failureSummary ?? v.help).replace(/\s+/g, ' ').trim(),
      });
    }
  }
  return findings;
}

/**
 * Page script: the contrast axe cannot check. axe leaves SVG text (the charts' axis labels and legends) out of
 * its colour-contrast rule, and it cannot find the background of text in a modal <dialog> that sits in the
 * top layer but inside the sidebar in the DOM (the delete confirmation: "overlapped by another element", an
 * incomplete result, not a violation). This checks both the same way: each visible text's colour (with the
 * opacity of it and its ancestors) against its ancestors' backgrounds composited, 4.5:1 at least (3:1 for
 * large text). Disabled controls are exempt, as in WCAG. Returns how many were checked and those below.
 * A string, so that the test's transpiler adds nothing to it.
 */
const OWN_CONTRAST = `(() => {
  const parse = (c) => {
    let m = /^rgba?\\(([^)]+)\\)$/.exec(c);
    if (m) { const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = /^color\\(srgb ([^)]+)\\)$/.exec(c);
    if (m) { const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number); return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    return null;
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const lum = (c) => { const l = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
  const rgb = (c) => 'rgb(' + c.slice(0, 3).map(Math.round).join(', ') + ')';
  const behind = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      if (n instanceof SVGElement) continue;
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    let color = [255, 255, 255, 1];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  // A modal dialog is drawn in the top layer: its ancestors' opacity does not apply to it.
  const opacity = (el) => { let o = 1; for (let n = el; n; n = n.matches('dialog[open]') ? null : n.parentElement) o *= Number(getComputedStyle(n).opacity); return o; };
  const ratioOf = (fg, bg) => { const a = lum(fg), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const bad = [];
  let svgChecked = 0;
  for (const t of document.querySelectorAll('svg text')) {
    const text = (t.textContent || '').trim();
    const box = t.getBoundingClientRect();
    if (!text || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(t);
    if (style.visibility !== 'visible' || style.display === 'none') continue;
    svgChecked++;
    const fill = parse(style.fill);
    const bg = behind(t.parentElement);
    if (!fill) { bad.push({ rule: 'svg-text-contrast', target: 'svg text "' + text + '"', summary: 'fill ' + style.fill + ' is not a colour' }); continue; }
    const fg = over([fill[0], fill[1], fill[2], fill[3] * Number(style.fillOpacity) * opacity(t)], bg);
    const ratio = ratioOf(fg, bg);
    if (ratio < 4.5) bad.push({ rule: 'svg-text-contrast', target: 'svg text "' + text + '"', summary: 'contrast ' + ratio.toFixed(2) + ':1 (fill ' + style.fill + ' on ' + rgb(bg) + '), expected 4.5:1' });
  }
  let dialogChecked = 0;
  const skipped = { dialogs: document.querySelectorAll('dialog[open]').length, disabled: 0, small: 0, hidden: 0, transparent: 0 };
  for (const dialog of document.querySelectorAll('dialog[open]')) {
    const seen = new Set();
    const walker = document.createTreeWalker(dialog, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const el = walker.currentNode.parentElement;
      if (!el || seen.has(el) || !walker.currentNode.textContent.trim() || el.closest('svg')) continue;
      seen.add(el);
      const label = el.closest('label');
      const control = label && (label.control || label.querySelector('input, select, textarea'));
      if (el.closest('button:disabled, input:disabled, select:disabled, textarea:disabled, fieldset:disabled, [aria-disabled="true"]') || (control && control.disabled)) { skipped.disabled++; continue; }
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (box.width < 2 || box.height < 2) { skipped.small++; continue; }
      if (style.visibility !== 'visible' || style.display === 'none') { skipped.hidden++; continue; }
      const alpha = opacity(el);
      if (alpha === 0) { skipped.transparent++; continue; }
      dialogChecked++;
      const color = parse(style.color);
      const bg = behind(el);
      if (!color) continue;
      const fg = over([color[0], color[1], color[2], color[3] * alpha], bg);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const ratio = ratioOf(fg, bg);
      if (ratio < (large ? 3 : 4.5)) {
        const text = el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40);
        bad.push({ rule: 'dialog-text-contrast', target: el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + text + '"', summary: 'contrast ' + ratio.toFixed(2) + ':1 (' + style.color + ' on ' + rgb(bg) + ', ' + size + 'px), expected ' + (large ? 3 : 4.5) + ':1' });
      }
    }
  }
  return { svgChecked, dialogChecked, skipped: JSON.stringify(skipped), bad };
})()`;

/** Contrast of chart labels and of text in open dialogs (see {@link OWN_CONTRAST}), as findings, with counts. */
async function auditOwnContrast(page: Page, view: string): Promise<{ findings: Finding[]; svgChecked: number; dialogChecked: number; skipped: string }> {
  const { svgChecked, dialogChecked, skipped, bad } = (await page.evaluate(OWN_CONTRAST)) as {
    svgChecked: number;
    dialogChecked: number;
    /** Texts in dialogs left out, by reason (JSON), for a failure message. */
    skipped: string;
    bad: { rule: string; target: string; summary: string }[];
  };
  return { findings: bad.map((b) => ({ view, impact: 'serious', ...b })), svgChecked, dialogChecked, skipped };
}

/** One line per problem, with the views it appears in (the sidebar's appear in every view). */
function describeFindings(findings: Finding[]): string {
  const grouped = new Map<string, { finding: Finding; views: string[] }>();
  for (const f of findings) {
    const key = `${f.rule}|${f.target}|${f.summary}`;
    const entry = grouped.get(key) ?? { finding: f, views: [] };
    entry.views.push(f.view);
    grouped.set(key, entry);
  }
  return [...grouped.values()]
    .map(({ finding: f, views }) => `- ${f.rule} (${f.impact}) ${f.target}  [${views.join('; ')}]\n    ${f.summary}`)
    .join('\n');
}

describe('accessibility (axe-core) in the browser mode', () => {
  const tmp = tempDir('wattwise-a11y-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let conversationId = '';

  const assistantMessages = () => page.locator('[data-testid="message"][data-role="assistant"]');

  before(async () => {
    mkdirSync(modelsDir);
    symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
    // No Hub on this machine: the Models view's online parts fail fast against a closed loopback port.
    server = await startWebProcess({ dataDir, modelsDir, env: { HOME: join(tmp.dir, 'home'), HF_ENDPOINT: 'http://127.0.0.1:9' } });
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 48, theme: 'light' });
    ({ browser, page } = await openApp(server));
    // The dialogs' and popovers' entry animations end at once, so axe sees their final colours.
    await page.emulateMedia({ reducedMotion: 'reduce' });

    // A finished reply, then a stopped one: messages with stats, energy footers and the "stopped" badge.
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('send').click();
    await assistantMessages().last().and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    // A second version of that reply ("Try with…" Saver's choice): the ‹ 1/2 › navigation and its table.
    await assistantMessages().last().hover();
    await page.getByTestId('try-with').click();
    await page.locator('[data-testid="try-with-saver"]:not([disabled])').click();
    await page.locator('[data-testid="version-count"]', { hasText: '2/2' }).waitFor({ timeout: 60_000 });
    await assistantMessages().last().and(page.locator('[data-status="complete"]')).waitFor({ timeout: 60_000 });
    await apiCall(server, 'settings.update', { maxReplyTokens: 20000, contextSize: 4096 });
    await page.getByTestId('composer').fill('Once upon a time there was a long story');
    await page.getByTestId('send').click();
    await page.waitForFunction(
      () => {
        const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
        return nodes.length >= 2 && (nodes[nodes.length - 1]?.textContent?.length ?? 0) > 30;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.getByTestId('stop').click();
    await assistantMessages().last().and(page.locator('[data-status="stopped"]')).waitFor({ timeout: 10_000 });
    await apiCall(server, 'settings.update', { maxReplyTokens: 48, contextSize: 2048 });
    conversationId = (await page.getByTestId('conversation-item').first().getAttribute('data-conversation-id')) ?? '';
    assert.ok(conversationId);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  /** Opens each view and dialog in `theme`, audits it and keeps a screenshot; returns every finding. */
  async function auditAllViews(theme: 'light' | 'dark'): Promise<{ findings: Finding[]; views: string[] }> {
    await apiCall(server, 'settings.update', { theme });
    await page.reload();
    await page.locator(`html[data-theme="${theme}"]`).waitFor();
    const findings: Finding[] = [];
    const views: string[] = [];
    const check = async (view: string, expect: { chartLabels?: number; dialogTexts?: number } = {}) => {
      // Let charts and fetched figures settle (no animations, but data arrives asynchronously), and dialogs
      // finish appearing.
      await page.waitForTimeout(300);
      await page.waitForFunction(() => [...document.querySelectorAll('dialog[open]')].every((d) => getComputedStyle(d).opacity === '1'));
      views.push(view);
      const own = await auditOwnContrast(page, `${view}, ${theme}`);
      assert.ok(own.svgChecked >= (expect.chartLabels ?? 0), `${view}: ${own.svgChecked} chart labels checked, expected ${expect.chartLabels}+`);
      assert.ok(own.dialogChecked >= (expect.dialogTexts ?? 0), `${view}: ${own.dialogChecked} dialog texts checked, expected ${expect.dialogTexts}+ (left out: ${own.skipped})`);
      findings.push(...(await audit(page, `${view}, ${theme}`)), ...own.findings);
      await screenshot(page, `a11y-${view}-${theme}`);
    };

    // The conversation with its replies, stats, energy footers and the gauges column.
    const item = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
    await item.click();
    await assistantMessages().nth(1).waitFor();
    await page.getByTestId('message-stats').first().waitFor();
    await page.locator('[data-testid="gauge-power"][data-power-w]').waitFor({ timeout: 15_000 });
    await page.getByTestId('compare-versions').click();
    await page.getByTestId('version-row').first().waitFor();
    await check('chat');

    // "Try with…" on the last reply.
    await assistantMessages().last().hover();
    await page.getByTestId('try-with').click();
    await page.locator('[data-testid="try-with-performance"]:not([disabled])').waitFor();
    await check('try-with-menu');
    await page.keyboard.press('Escape');
    await page.getByTestId('try-with-performance').waitFor({ state: 'detached' });

    // The preset and parameters panel of the chat header.
    await page.getByTestId('preset-picker').click();
    await page.getByTestId('preset-option').first().waitFor();
    await check('preset-panel');
    await page.keyboard.press('Escape');
    await page.getByTestId('preset-panel').waitFor({ state: 'detached' });

    // The conversation's export menu.
    await page.getByTestId('export-menu').click();
    await page.getByTestId('export-md').waitFor();
    await check('export-menu');
    await page.keyboard.press('Escape');
    await page.getByTestId('export-md').waitFor({ state: 'detached' });

    // The model picker's list.
    await page.getByTestId('model-picker').click();
    await page.getByTestId('model-option').first().waitFor();
    await check('model-picker');
    await page.keyboard.press('Escape');
    await page.getByTestId('model-option').first().waitFor({ state: 'detached' });

    // The power sources popover of the gauges.
    await page.waitForFunction(() => !/…/.test(document.querySelector('[data-testid="energy-source"]')?.textContent ?? '…'));
    await page.getByTestId('energy-source').click();
    await page.getByTestId('power-source').first().waitFor();
    await check('power-sources');
    await page.keyboard.press('Escape');
    await page.getByTestId('power-source').first().waitFor({ state: 'detached' });

    // The delete confirmation of a conversation.
    await item.hover();
    await item.getByTestId('delete').click();
    await page.getByTestId('confirm-delete').waitFor();
    await check('delete-dialog', { dialogTexts: 4 });
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-delete').waitFor({ state: 'detached' });

    // A new, empty chat.
    await page.getByTestId('new-chat').click();
    await page.locator('[data-testid="message"]').first().waitFor({ state: 'detached' });
    await check('empty-chat');

    // The composer with an attached text file and a refused binary one.
    await page.getByTestId('attach-input').setInputFiles([
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nThe little bird sang.\n') },
      { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) },
    ]);
    await page.getByTestId('attachment-chip').first().waitFor();
    await page.getByTestId('attachment-refusal').first().waitFor();
    await check('composer-attachments');

    // Energy, with the conversation selected: table, daily chart and power trace.
    await page.getByTestId('energy-nav').click();
    await page.getByTestId('energy-view').waitFor();
    const row = page.locator(`[data-testid="energy-row"][data-conversation-id="${conversationId}"]`);
    await row.click();
    await page.locator(`[data-testid="energy-selected"][data-conversation-id="${conversationId}"]`).waitFor();
    await page.locator('[data-testid="daily-chart"] svg .recharts-bar-rectangle path').first().waitFor();
    await page.locator('[data-testid="trace-chart"] svg path.recharts-area-curve').first().waitFor({ timeout: 10_000 });
    await check('energy', { chartLabels: 8 });

    // Governor: decision, candidates, chart and its settings.
    await page.getByTestId('governor-nav').click();
    await page.getByTestId('governor-view').waitFor();
    await page.getByTestId('governor-row').first().waitFor({ timeout: 30_000 });
    await check('governor', { chartLabels: 4 });

    // Models: installed list, ladder and catalog.
    await page.getByTestId('models-nav').click();
    await page.getByTestId('models-view').waitFor();
    await page.getByTestId('disk-chip').waitFor({ timeout: 30_000 });
    await check('models');

    // Settings.
    await page.getByTestId('settings').click();
    await page.getByTestId('save-settings').waitFor();
    // With a backup listed in its Data section.
    await page.getByTestId('backup-now').click();
    await page.getByTestId('backup-restore').first().waitFor();
    await check('settings', { dialogTexts: 20 });

    // The confirmation of restoring that backup, over Settings.
    await page.getByTestId('backup-restore').first().click();
    await page.getByTestId('restore-confirm').waitFor();
    await check('restore-dialog', { dialogTexts: 4 });
    await page.keyboard.press('Escape');
    await page.getByTestId('restore-confirm').waitFor({ state: 'detached' });

    // A new preset's editor, over Settings.
    await page.getByTestId('new-preset').click();
    await page.getByTestId('preset-editor-name').waitFor();
    await check('preset-editor', { dialogTexts: 10 });
    await page.keyboard.press('Escape');
    await page.getByTestId('preset-editor-name').waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await page.getByTestId('save-settings').waitFor({ state: 'detached' });

    return { findings, views };
  }

  for (const theme of ['light', 'dark'] as const) {
    test(`every view has no serious or critical axe violation in the ${theme} theme`, async () => {
      const { findings, views } = await auditAllViews(theme);
      assert.deepEqual(views, [
        'chat',
        'try-with-menu',
        'preset-panel',
        'export-menu',
        'model-picker',
        'power-sources',
        'delete-dialog',
        'empty-chat',
        'composer-attachments',
        'energy',
        'governor',
        'models',
        'settings',
        'restore-dialog',
        'preset-editor',
      ]);
      writeFileSync(join(repoRoot, 'test-results', `a11y-${theme}.json`), JSON.stringify(findings, null, 2));
      assert.equal(findings.length, 0, `${findings.length} serious or critical axe violations in the ${theme} theme:\n${describeFindings(findings)}`);
    });
  }

  test('the audits catch a contrast failure in HTML, in SVG text and in a modal dialog (the checks are live)', async () => {
    // Grey on white at 1.9:1 is a serious colour-contrast violation: each audit must report its probe.
    await page.evaluate(() => {
      const box = document.createElement('div');
      box.id = 'a11y-probe';
      box.style.cssText = 'position:fixed;top:0;left:0;z-index:9999;background:#ffffff;color:#bbbbbb;font-size:14px';
      box.innerHTML = '<p id="a11y-probe-text">Low contrast probe</p><svg width="120" height="20"><text x="0" y="14" fill="#bbbbbb">Probe label</text></svg>';
      document.body.appendChild(box);
    });
    try {
      const findings = await audit(page, 'probe');
      assert.ok(
        findings.some((f) => f.rule === 'color-contrast' && f.target.includes('a11y-probe-text')),
        `the HTML probe was reported:\n${describeFindings(findings)}`,
      );
      const own = await auditOwnContrast(page, 'probe');
      assert.ok(
        own.findings.some((f) => f.rule === 'svg-text-contrast' && f.target.includes('Probe label') && /1\.9\d:1/.test(f.summary)),
        `the SVG probe was reported:\n${describeFindings(own.findings)}`,
      );
      // A modal dialog inside the sidebar, like the delete confirmation.
      await page.evaluate(() => {
        const dialog = document.createElement('dialog');
        dialog.id = 'a11y-probe-dialog';
        dialog.style.cssText = 'background:#ffffff;color:#bbbbbb';
        dialog.innerHTML = '<p>Probe dialog text</p>';
        document.querySelector('.sidebar')?.appendChild(dialog);
        dialog.showModal();
      });
      const inDialog = await auditOwnContrast(page, 'probe');
      assert.ok(
        inDialog.findings.some((f) => f.rule === 'dialog-text-contrast' && f.target.includes('Probe dialog text') && /1\.9\d:1/.test(f.summary)),
        `the dialog probe was reported:\n${describeFindings(inDialog.findings)}`,
      );
    } finally {
      await page.evaluate(() => {
        document.getElementById('a11y-probe')?.remove();
        document.getElementById('a11y-probe-dialog')?.remove();
      });
    }
  });
});
