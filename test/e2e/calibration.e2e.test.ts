/**
 * The calibration bench in the Governor view, in real Chromium against the browser mode (`npm run web`'s
 * command in a child process) with real models: stories260K re-quantized to F32, F16, Q8_0 and Q4_0 (the
 * model ladder's `stories` family), so bits per byte really differ between the variants.
 *
 * The estimate shows before anything starts; "Calibrate all" (quick) shows an overall and a per-variant
 * progress bar that move, the run survives leaving the view and coming back, and when it ends every
 * variant is done: the chart draws every point as measured, the candidates' quality says "measured", the
 * measurements table lists each model with its bits per byte, and Export CSV downloads one header line
 * and one row per model. A second (full) run is cancelled from the panel: it ends cancelled and the
 * first run's results stay. A row's own "Calibrate" measures just that model. The governor settings save
 * "Calibrate new models by itself when plugged in and idle".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ApiOutput, CalibrationResult, CalibrationStatus, GovernorDecision, Settings } from '../../shared/contract.js';
import { apiCall, openApp, screenshot, startWebProcess, type WebProcess } from '../helpers/browser.js';
import { tempDir } from '../helpers/runtime.js';
import { generateLadder, ladderDir, STORIES_FAMILY, type LadderModel } from '../fixtures/ladder/ladder.js';

type CalibrationList = ApiOutput<'calibration.list'>;

/** What the page saw of the progress bars while a run went on (recorded in the page, see `recordProgress`). */
interface ProgressSeen {
  /** Highest overall aria-valuenow seen while the panel said "running". */
  overallMax: number;
  /** Overall values seen while running, in order (duplicates dropped). */
  overall: number[];
  /** Per-variant aria-valuenow values seen strictly between 0 and 100. */
  variantPartial: number[];
  /** Phases seen on running variants. */
  phases: string[];
}

/**
 * Page script: records, inside the page, every value the progress bars take while the panel says
 * "running" (a MutationObserver, so no value is missed between two polls of the test) into
 * `window.__calibrationSeen` ({@link ProgressSeen}). A string, so that the test's transpiler adds nothing to it.
 */
const RECORD_PROGRESS = `(() => {
  const seen = { overallMax: 0, overall: [], variantPartial: [], phases: [] };
  window.__calibrationSeen = seen;
  const read = () => {
    if (document.querySelector('[data-testid="calibration-panel"]')?.getAttribute('data-state') !== 'running') return;
    const overall = Number(document.querySelector('[data-testid="calibration-progress"]')?.getAttribute('aria-valuenow') ?? NaN);
    if (Number.isFinite(overall)) {
      seen.overallMax = Math.max(seen.overallMax, overall);
      if (seen.overall[seen.overall.length - 1] !== overall) seen.overall.push(overall);
    }
    for (const bar of document.querySelectorAll('[data-testid="calibration-variant-progress"]')) {
      const v = Number(bar.getAttribute('aria-valuenow'));
      if (v > 0 && v < 100 && !seen.variantPartial.includes(v)) seen.variantPartial.push(v);
    }
    for (const row of document.querySelectorAll('[data-testid="calibration-variant"][data-state="running"]')) {
      const phase = row.getAttribute('data-phase');
      if (phase && !seen.phases.includes(phase)) seen.phases.push(phase);
    }
  };
  new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-state', 'data-phase'] });
  read();
})()`;

describe('calibration bench in the Governor view', () => {
  const tmp = tempDir('wattwise-calibration-e2e-');
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let browser: Browser;
  let server: WebProcess;
  let page: Page;
  let ladder: LadderModel[] = [];
  let paths: string[] = [];
  let firstResults: CalibrationResult[] = [];

  before(async () => {
    mkdirSync(modelsDir);
    ladder = (await generateLadder({ outDir: ladderDir(), sizes: [] })).filter((m) => m.family === STORIES_FAMILY);
    assert.deepEqual(ladder.map((m) => m.quantization).sort(), ['F16', 'F32', 'Q4_0', 'Q8_0'], 'the four re-quantized stories260K files');
    for (const m of ladder) symlinkSync(m.path, join(modelsDir, basename(m.path)));
    paths = ladder.map((m) => join(modelsDir, basename(m.path))).sort();
    server = await startWebProcess({ dataDir, modelsDir });
    // One thread keeps the 2-core machine usable while the bench runs.
    await apiCall(server, 'settings.update', { threads: 1, maxReplyTokens: 16 });
    ({ browser, page } = await openApp(server));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const list = () => apiCall(server, 'calibration.list', {}) as Promise<CalibrationList>;
  const decide = () => apiCall(server, 'governor.decide', {}) as Promise<GovernorDecision>;
  const panelState = () => page.getByTestId('calibration-panel').getAttribute('data-state');
  /** Waits until the panel says `state` (the run ended that way); a run of tiny models takes well under the timeout. */
  const waitForPanel = (state: CalibrationStatus['state'] | 'idle', timeout = 300_000) =>
    page.locator(`[data-testid="calibration-panel"][data-state="${state}"]`).waitFor({ timeout });

  /** Starts recording the progress bars in the page ({@link RECORD_PROGRESS}); read with `progressSeen`. */
  const recordProgress = () => page.evaluate(RECORD_PROGRESS);
  const progressSeen = () => page.evaluate(() => (window as unknown as { __calibrationSeen: ProgressSeen }).__calibrationSeen);

  /** Light and dark screenshots of what is on screen now. */
  const bothThemes = async (name: string) => {
    await screenshot(page, name);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // colour transitions
    await screenshot(page, `${name}-dark`);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForTimeout(400);
  };

  test('the Governor view shows the estimate before anything starts', async () => {
    await page.getByTestId('governor-nav').click();
    await page.getByTestId('governor-view').waitFor();
    await waitForPanel('idle');
    assert.equal((await list()).results.length, 0, 'nothing calibrated yet');
    await page.getByTestId('calibration-results-empty').waitFor();

    const quick = page.getByTestId('calibration-quick');
    assert.equal(await quick.isChecked(), false, 'full runs by default');
    await quick.check();
    const estimate = (await apiCall(server, 'calibration.estimate', { quick: true })) as ApiOutput<'calibration.estimate'>;
    assert.equal(estimate.variants.length, 4);
    assert.ok(estimate.totalMs > 0);
    const shown = page.locator(`[data-testid="calibration-estimate"][data-models="4"][data-total-ms="${estimate.totalMs}"]`);
    await shown.waitFor();
    assert.match(await shown.innerText(), /^Calibrate all: (under 10 s|about \d+ (s|min)|about \d+ h( \d+ min)?) for 4 models, quick\.$/);
    assert.match(await page.getByTestId('calibration-panel').innerText(), /4 of 4 not calibrated yet/);

    // Every candidate row has its own Calibrate, labelled with the mode and its share of the estimate.
    const buttons = page.getByTestId('calibrate-model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="calibrate-model"]').length === 4);
    const labels = await buttons.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    for (const label of labels) assert.match(label, /^Calibrate stories.* \(quick run, (under 10 s|about .+)\)$/, label);
    // Before: the qualities are estimates, nothing is measured.
    assert.equal(await page.locator('[data-testid="governor-row"] [data-testid="quality-source"][data-source="measured"]').count(), 0);
    assert.equal(await page.locator('[data-testid="governor-chart"] circle.gov-point[data-measured="true"]').count(), 0);
    await screenshot(page, 'calibration-before');
  });

  test('Calibrate all (quick): the bars move, the run survives leaving the view, and it ends with every variant done', async () => {
    await recordProgress();
    await page.getByTestId('calibration-start').click();
    const overall = page.getByTestId('calibration-progress');
    await overall.waitFor({ timeout: 15_000 });
    assert.equal(await overall.getAttribute('role'), 'progressbar');
    assert.equal(await page.getByTestId('calibration-variant-progress').count(), 4, 'one bar per variant');
    assert.equal(await page.getByTestId('calibration-cancel').getAttribute('type'), 'button');
    // Every per-row button is replaced or disabled while the run goes on.
    assert.equal(await page.locator('[data-testid="calibrate-model"]:not([disabled])').count(), 0);

    // Mid-run: the overall bar has moved, a variant says its step in words.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="calibration-panel"]')?.getAttribute('data-state') === 'running' &&
        Number(document.querySelector('[data-testid="calibration-progress"]')?.getAttribute('aria-valuenow')) > 0,
      undefined,
      { timeout: 120_000, polling: 50 },
    );
    const phaseWords = /Loading|Finding the best thread count|Measuring quality \(bits per byte\)|Prompt speed|Sustained decode|Waiting its turn|Done/;
    assert.match(await page.getByTestId('calibration-variant-state').first().innerText(), phaseWords);
    assert.match(await page.getByTestId('calibration-clock').innerText(), /^\d+:\d\d elapsed · /);
    if ((await panelState()) === 'running') {
      await page.getByTestId('calibration-panel').scrollIntoViewIfNeeded();
      await bothThemes('calibration-running');
    }

    // Leave the view and come back: the run is still shown (the store keeps it, calibration.list refills it).
    const before = Number(await overall.getAttribute('aria-valuenow'));
    await page.getByRole('button', { name: 'Back to the chat' }).click();
    await page.getByTestId('governor-view').waitFor({ state: 'detached' });
    await page.getByTestId('governor-nav').click();
    await page.getByTestId('calibration-panel').waitFor();
    if ((await panelState()) === 'running') {
      assert.ok(Number(await overall.getAttribute('aria-valuenow')) >= before, 'the bar did not go back after leaving the view');
    }

    await waitForPanel('done');
    const seen = await progressSeen();
    assert.ok(seen.overallMax > 0 && seen.overallMax < 100 + 1, `the overall bar moved while running: ${JSON.stringify(seen.overall)}`);
    assert.ok(seen.overall.length >= 2, `the overall bar took several values: ${JSON.stringify(seen.overall)}`);
    assert.ok(seen.variantPartial.length > 0, 'a variant bar was part-way at some point');
    assert.ok(seen.phases.length >= 2, `running variants showed their phases: ${seen.phases.join(', ')}`);

    const { run, results } = await list();
    assert.ok(run, 'the run of this session is listed');
    assert.equal(run.state, 'done');
    assert.equal(run.quick, true);
    assert.deepEqual(run.variants.map((v) => v.state), ['done', 'done', 'done', 'done']);
    assert.equal(run.fraction, 1);
    assert.ok(run.endedAt !== null && run.endedAt >= run.startedAt);
    assert.deepEqual(results.map((r) => r.modelPath).sort(), paths, 'one result per model');
    for (const r of results) {
      assert.ok(r.bitsPerByte !== null && r.bitsPerByte > 0, `${r.fileName} has bits per byte`);
      assert.equal(r.quick, true);
    }
    firstResults = results;

    // The panel says how it ended; every variant row says done.
    assert.match(await page.getByTestId('calibration-summary').innerText(), /Calibrated 4 models in \d+:\d\d\./);
    await page.getByTestId('calibration-summary').click(); // open the list of the run
    assert.deepEqual(await page.getByTestId('calibration-variant').evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))), ['done', 'done', 'done', 'done']);

    // The governor now decides on measured qualities: the table and the chart say so.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="governor-row"] [data-testid="quality-source"][data-source="measured"]').length === 4,
      undefined,
      { timeout: 15_000 },
    );
    const decision = await decide();
    assert.ok(decision.candidates.every((c) => c.qualitySource === 'measured' && c.bitsPerByte !== null), 'every candidate has a measured quality');
    await page.waitForFunction(() => document.querySelector('[data-testid="governor-chart"]')?.getAttribute('data-measured-points') === '4', undefined, { timeout: 15_000 });
    assert.equal(await page.locator('[data-testid="governor-chart"] circle.gov-point[data-measured="true"]').count(), 4, 'four filled points');
    assert.equal(await page.locator('[data-testid="governor-chart"] circle.gov-point[data-measured="false"]').count(), 0);
    const front = Number(await page.getByTestId('governor-chart').getAttribute('data-pareto'));
    assert.ok(front >= 1 && front <= 4, `the Pareto front has 1 to 4 variants (${front})`);
    assert.equal(await page.locator('[data-testid="governor-chart"] circle.gov-point[data-pareto="true"]').count(), front);
    if (front > 1) assert.equal(await page.locator('[data-testid="governor-chart"] .gov-pareto').count(), 1, 'the front is drawn');
    assert.match(await page.locator('.gov-legend').innerText(), /Measured here[\s\S]*Predicted[\s\S]*Pareto front/);

    // The measurements table: one row per model with its bits per byte.
    const rows = page.getByTestId('calibration-result');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="calibration-result"]').length === 4);
    assert.deepEqual((await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-model-path')))).sort(), paths);
    for (const r of results) {
      const row = page.locator(`[data-testid="calibration-result"][data-model-path="${r.modelPath}"]`);
      assert.equal(Number(await row.getAttribute('data-bpb')), r.bitsPerByte);
      assert.equal(await row.getByTestId('calibration-bpb').innerText(), `${r.bitsPerByte!.toFixed(3)} BPB`);
      assert.match(await row.innerText(), /quick/);
    }

    await page.getByTestId('calibration-panel').scrollIntoViewIfNeeded();
    await bothThemes('calibration-done');
    await page.getByTestId('governor-chart').scrollIntoViewIfNeeded();
    await bothThemes('calibration-chart');
    await page.getByTestId('calibration-results').scrollIntoViewIfNeeded();
    await bothThemes('calibration-measurements');
  });

  test('Export CSV downloads one header line and one row per model', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('calibration-export').click()]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const expected = (await apiCall(server, 'calibration.exportCsv', {})) as ApiOutput<'calibration.exportCsv'>;
    assert.equal(download.suggestedFilename(), expected.fileName);
    const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
    assert.equal(lines.length, 1 + 4, `a header and 4 rows:\n${csv.slice(0, 400)}`);
    const header = lines[0]!;
    assert.equal(header, expected.csv.split(/\r?\n/)[0], 'the header the backend wrote');
    assert.match(header, /^[a-z_]+(,[a-z_]+)+$/i, `header: ${header}`);
    assert.match(header, /bits_?per_?byte/i, 'the header names bits per byte');
    for (const r of firstResults) assert.ok(csv.includes(r.fileName), `a row for ${r.fileName}`);
    assert.ok(!paths.some((p) => header.includes(basename(p))), 'the first line is a header, not data');
  });

  test('Cancel stops a second run and keeps the earlier results', async () => {
    await page.getByTestId('calibration-panel').scrollIntoViewIfNeeded();
    await page.getByTestId('calibration-quick').uncheck();
    await page.locator('[data-testid="calibration-estimate"][data-models="4"]').waitFor();
    assert.doesNotMatch(await page.getByTestId('calibration-estimate').innerText(), /quick/);
    await page.getByTestId('calibration-start').click();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="calibration-panel"]')?.getAttribute('data-state') === 'running' &&
        document.querySelector('[data-testid="calibration-variant"][data-state="running"]') !== null,
      undefined,
      { timeout: 60_000, polling: 50 },
    );
    const runId = await page.getByTestId('calibration-run').getAttribute('data-run-id');
    assert.ok(runId);
    assert.equal((await list()).run?.runId, runId, 'the listed run is this one');
    // A second start while it runs is refused (BUSY), and the panel keeps showing the run.
    await assert.rejects(apiCall(server, 'calibration.start', { quick: true }), /calibration\.start/);

    // From the keyboard: Cancel takes the focus and Enter presses it.
    await page.getByTestId('calibration-cancel').focus();
    await page.keyboard.press('Enter');
    await waitForPanel('cancelled', 60_000);

    const { run, results } = await list();
    assert.equal(run?.runId, runId);
    assert.equal(run?.state, 'cancelled');
    assert.ok(run?.variants.some((v) => v.state === 'cancelled'), 'a variant was cancelled');
    assert.ok(run?.variants.every((v) => v.state !== 'running' && v.state !== 'pending'), 'nothing is left running or pending');
    assert.deepEqual(results.map((r) => r.modelPath).sort(), paths, 'the earlier results are kept');
    for (const r of results) assert.ok(r.bitsPerByte !== null && r.bitsPerByte > 0);
    assert.match(await page.getByTestId('calibration-summary').innerText(), /^Cancelled: \d of 4 models calibrated in this run.*Results measured before are kept\./);
    // The list of the run is open after a cancel: the cancelled variants say so.
    assert.ok((await page.locator('[data-testid="calibration-variant"][data-state="cancelled"]').count()) >= 1);
    assert.equal(await page.getByTestId('calibration-result').count(), 4, 'the table still lists every model');
    await page.getByTestId('calibration-panel').scrollIntoViewIfNeeded();
    await bothThemes('calibration-cancelled');
  });

  test('a row’s Calibrate measures just that model', async () => {
    await page.getByTestId('calibration-quick').check();
    const target = paths.find((p) => p.includes('Q4_0'));
    assert.ok(target);
    const button = page.locator(`[data-testid="calibrate-model"][data-model-path="${target}"]`);
    await button.scrollIntoViewIfNeeded();
    const before = firstResults.find((r) => r.modelPath === target)!.measuredAt;
    await button.click();
    await page.locator('[data-testid="calibration-panel"][data-state="running"], [data-testid="calibration-panel"][data-state="done"]').waitFor({ timeout: 15_000 });
    await waitForPanel('done');
    const { run, results } = await list();
    assert.deepEqual(run?.variants.map((v) => v.modelPath), [target], 'a run of that model alone');
    assert.equal(run?.variants[0]?.state, 'done');
    const after = results.find((r) => r.modelPath === target);
    assert.ok(after && after.measuredAt > before, 'measured anew');
    assert.equal(results.length, 4);
    assert.match(await page.getByTestId('calibration-summary').innerText(), /Calibrated 1 model in/);
  });

  test('the governor settings save "Calibrate new models by itself" with the rest', async () => {
    const box = page.getByTestId('governor-autoCalibrate');
    await box.scrollIntoViewIfNeeded();
    assert.equal(await box.isChecked(), false, 'off by default');
    await box.check();
    await page.getByTestId('governor-save').click();
    await page.locator('.gov-form__status', { hasText: 'Saved' }).waitFor();
    const on = (await apiCall(server, 'settings.get', {})) as Settings;
    assert.equal(on.calibration.autoWhenIdleOnAc, true);
    // Off again at once: this test file wants no run it did not start.
    await box.uncheck();
    await page.getByTestId('governor-save').click();
    await page.locator('.gov-form__status', { hasText: 'Saved' }).waitFor();
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).calibration.autoWhenIdleOnAc, false);
    assert.equal(((await apiCall(server, 'settings.get', {})) as Settings).governor.acProfile, on.governor.acProfile, 'the governor settings are kept');
  });
});
