/**
 * The governor end to end on a generated model ladder (one random-weight llama family at 3 sizes × F16 /
 * Q8_0 / Q4_0, written by test/fixtures/ladder): Saver picks a smaller or lower-bit variant than
 * Performance, a watt cap between their powers picks a variant in between, a battery target follows the
 * power state, the CLI prints the decision as JSON, and chat answers with the governor's choice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { governorDecisionSchema, type GovernorDecision } from '../../shared/contract.js';
import type { Backend } from '../../electron/core/backend.js';
import { defaultGovernorSettings } from '../../electron/core/governorSettings.js';
import type { GovernorPowerInput } from '../../electron/core/governorService.js';
import { generateLadder, ladderDir, RANDOM_FAMILY, type LadderModel } from '../fixtures/ladder/ladder.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { repoRoot } from '../helpers/models.js';
import { minPerformanceCompletionTokens, Store } from '../../electron/store/store.js';
import { machineKey } from '../../electron/core/runtime.js';

const onAc: GovernorPowerInput = { onAc: true, batteryPercent: null, batteryCapacityWh: null, batteryEnergyWh: null, baselinePowerW: 6 };

describe('governor on a generated ladder', () => {
  const tmp = tempDir('wattwise-governor-');
  const modelsDir = join(tmp.dir, 'models');
  let ladder: LadderModel[];
  const open = (power: GovernorPowerInput, governor = defaultGovernorSettings, dataDir = join(tmp.dir, 'data')): Promise<Backend> =>
    openTestBackend({
      dataDir,
      modelsDirOverride: modelsDir,
      telemetry: false,
      powerStateOverride: power,
      // A fixed bandwidth keeps the roofline deterministic on a shared machine.
      measureBandwidth: () => 20e9,
      overrides: { governor, threads: 1 },
    });
  const decideWith = async (power: GovernorPowerInput, governor = defaultGovernorSettings): Promise<GovernorDecision> => {
    const backend = await open(power, governor);
    try {
      return governorDecisionSchema.parse(ok(await backend.request('governor.decide', {})));
    } finally {
      await backend.dispose();
    }
  };
  const profile = (p: 'performance' | 'balanced' | 'saver' | 'custom', custom: Partial<typeof defaultGovernorSettings.custom> = {}) => ({
    ...defaultGovernorSettings,
    acProfile: p,
    batteryProfile: p,
    custom: { ...defaultGovernorSettings.custom, ...custom },
  });

  before(async () => {
    ladder = (await generateLadder({ outDir: ladderDir(), storiesQuantizations: [] })).filter((m) => m.family === RANDOM_FAMILY);
    assert.equal(ladder.length, 9);
    mkdirSync(modelsDir);
    for (const m of ladder) symlinkSync(m.path, join(modelsDir, m.path.split('/').pop()!));
  });
  after(() => tmp.cleanup());

  test('every ladder file is a candidate of one family, with roofline predictions', async () => {
    const d = await decideWith(onAc, profile('performance'));
    assert.equal(d.candidates.length, 9);
    assert.deepEqual(new Set(d.candidates.map((c) => c.family)), new Set([RANDOM_FAMILY]));
    assert.ok(d.candidates.every((c) => c.predicted.source === 'roofline' && c.fits));
    assert.equal(d.machine.bandwidthBytesPerSecond, 20e9);
  });

  test('Saver picks a smaller or lower-bit variant than Performance; a cap between them picks one in between', async () => {
    const performance = await decideWith(onAc, profile('performance'));
    const saver = await decideWith(onAc, profile('saver'));
    const p = performance.chosen!;
    const s = saver.chosen!;
    assert.ok(s.sizeBytes < p.sizeBytes, `saver ${s.fileName} is smaller than performance ${p.fileName}`);
    assert.ok(s.predicted.energyJPerToken < p.predicted.energyJPerToken);
    assert.ok(s.quality <= p.quality);
    assert.ok(s.predicted.powerW < p.predicted.powerW, `${s.predicted.powerW} < ${p.predicted.powerW}`);

    const cap = (s.predicted.powerW + p.predicted.powerW) / 2;
    const capped = await decideWith(onAc, profile('custom', { wattCapW: cap }));
    const c = capped.chosen!;
    assert.ok(c.predicted.powerW <= cap, `${c.fileName} draws ${c.predicted.powerW} W ≤ cap ${cap} W`);
    assert.notEqual(c.modelPath, p.modelPath, 'the cap excludes the Performance choice');
    assert.ok(c.quality >= s.quality && c.quality <= p.quality, 'quality in between');
    // Power is not monotone in quality (a small model running compute-bound at thousands of tok/s moves
    // more bytes per second than a larger one), so only the cap is checked: below Performance's power.
    assert.ok(c.predicted.powerW < p.predicted.powerW, 'less power than the Performance choice');
    assert.deepEqual(capped.violated, []);
    assert.equal(capped.bindingConstraint, 'watt-cap');
    assert.match(capped.reason, /W/);
    // Tightening the cap never raises the power.
    const tighter = await decideWith(onAc, profile('custom', { wattCapW: cap * 0.8 }));
    assert.ok(tighter.chosen!.predicted.powerW <= c.predicted.powerW);
  });

  test('a battery target: easy, then impossible (least energy, constraint named, chat not refused)', async () => {
    const battery = (percent: number): GovernorPowerInput => ({ onAc: false, batteryPercent: percent, batteryCapacityWh: 55, batteryEnergyWh: null, baselinePowerW: 6 });
    const easy = await decideWith(battery(90), profile('custom', { batteryHours: 1 }));
    assert.deepEqual(easy.violated, []);
    assert.equal(easy.onAc, false);
    assert.match(easy.reason, /battery/i);
    const impossible = await decideWith(battery(5), profile('custom', { batteryHours: 10, reservePercent: 10 }));
    assert.ok(impossible.chosen, 'still chooses a model');
    assert.ok(impossible.violated.includes('battery-target'));
    const least = Math.min(...impossible.candidates.filter((x) => x.fits).map((x) => x.predicted.energyJPerToken));
    assert.equal(impossible.chosen!.predicted.energyJPerToken, least);
  });

  test('the CLI prints the decision as JSON, for a power state from a file', () => {
    const stateFile = join(tmp.dir, 'state.json');
    writeFileSync(stateFile, JSON.stringify({ onAc: false, batteryPercent: 40, batteryCapacityWh: 55, baselinePowerW: 6 }));
    const r = spawnSync(
      'npm',
      ['run', '-s', 'wattwise', '--', 'governor', '--models-dir', modelsDir, '--data-dir', join(tmp.dir, 'cli'), '--profile', 'saver', '--power-state-json', stateFile, '--json'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const key of ['modelPath', 'quantization', 'threads', 'gpuLayers', 'contextSize', 'predicted', 'bindingConstraint', 'reason']) {
      assert.ok(key in out.decision, `decision.${key}`);
    }
    for (const key of ['decodeTokensPerSecond', 'powerW', 'energyJPerToken', 'source']) assert.ok(key in out.decision.predicted, `predicted.${key}`);
    assert.equal(out.candidates.length, 9);
    assert.equal(out.decision.onAc, false);
    assert.match(out.decision.reason, /40%/);
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, '{"batteryPercent": 40}');
    const refused = spawnSync('npm', ['run', '-s', 'wattwise', '--', 'governor', '--models-dir', modelsDir, '--data-dir', join(tmp.dir, 'cli'), '--power-state-json', bad], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /power-state-json.*onAc/s);
  });

  test('the CLI chat without --model lets the governor choose and reports its decision', () => {
    const r = spawnSync(
      'npm',
      ['run', '-s', 'wattwise', '--', 'chat', '--prompt', 'Once upon a time', '--models-dir', modelsDir, '--data-dir', join(tmp.dir, 'cli-chat'), '--profile', 'saver', '--threads', '1', '--max-tokens', '8', '--json'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.governor, 'the JSON has the decision');
    assert.equal(out.governor.profile, 'saver');
    assert.equal(out.model.path, out.governor.modelPath, 'the governor’s choice answered');
    assert.equal(out.model.quantization, out.governor.quantization);
    assert.equal(typeof out.governor.reason, 'string');
  });

  test('chat without a pinned model answers with the governor’s choice and records why', async () => {
    const backend = await open(onAc, profile('saver'), join(tmp.dir, 'chat'));
    let chosenPath = '';
    try {
      ok(await backend.request('settings.update', { maxReplyTokens: 16 }));
      const decision = ok(await backend.request('governor.decide', {}));
      const conversation = ok(await backend.request('conversations.create', {}));
      let requestId: string | null = null;
      let wait = waitForDone(backend, () => requestId);
      requestId = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' })).requestId;
      let done = await wait.promise;
      // A sampled reply can hit end-of-sequence early; replies under 8 tokens are not measurements
      // (minPerformanceCompletionTokens), so regenerate until this one is (random weights: rarely needed).
      for (let i = 0; i < 5 && done.message.stats!.completionTokens < minPerformanceCompletionTokens; i++) {
        wait = waitForDone(backend, () => requestId);
        requestId = ok(await backend.request('chat.regenerate', { conversationId: conversation.id })).requestId;
        done = await wait.promise;
      }
      assert.ok(done.message.stats!.completionTokens >= minPerformanceCompletionTokens);
      assert.equal(done.error, null);
      assert.equal(done.message.stats!.modelPath, decision.chosen!.modelPath);
      assert.equal(done.message.stats!.quantization, decision.chosen!.quantization);
      chosenPath = decision.chosen!.modelPath;
      // The measured reply calibrates the roofline for the variants that have not replied yet: every
      // unmeasured prediction moves by one common factor, the measured one's measured ÷ predicted.
      const after = ok(await backend.request('governor.decide', {}));
      const measured = after.candidates.find((c) => c.modelPath === chosenPath)!;
      assert.equal(measured.predicted.source, 'measured');
      const factors = after.candidates
        .filter((c) => c.modelPath !== chosenPath)
        .map((c) => c.predicted.decodeTokensPerSecond / decision.candidates.find((d) => d.modelPath === c.modelPath)!.predicted.decodeTokensPerSecond);
      assert.equal(factors.length, 8);
      for (const f of factors) assert.ok(Math.abs(f - factors[0]!) < 1e-9 * factors[0]!, `one common factor: ${factors.join(', ')}`);
      const before = decision.candidates.find((d) => d.modelPath === chosenPath)!.predicted.decodeTokensPerSecond;
      assert.ok(Math.abs(factors[0]! - measured.predicted.decodeTokensPerSecond / before) < 1e-6 * factors[0]!);
      assert.deepEqual(done.message.governor, { profile: 'saver', reason: decision.reason }, 'the reply records the profile and why');
      const stored = ok(await backend.request('conversations.get', { id: conversation.id })).messages[1]!;
      assert.deepEqual(stored.governor, done.message.governor);
      // A pinned model answers instead, and the reply says the governor did not choose it.
      const pinned = ok(await backend.request('conversations.pin', { id: conversation.id, modelPath: ladder[0]!.path }));
      assert.equal(pinned.pinnedModelPath, ladder[0]!.path);
      let second: string | null = null;
      const wait2 = waitForDone(backend, () => second);
      second = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'The end' })).requestId;
      const done2 = await wait2.promise;
      assert.equal(done2.message.stats!.modelPath, ladder[0]!.path);
      assert.equal(done2.message.governor, null);
      const forConversation = ok(await backend.request('governor.decide', { conversationId: conversation.id }));
      assert.equal(forConversation.pinnedModelPath, ladder[0]!.path);
    } finally {
      await backend.dispose();
    }
    // Each model load was timed (the governor's switch cost): two models were loaded here.
    const store = Store.open({ filePath: join(tmp.dir, 'chat', 'wattwise.sqlite'), machineKey: machineKey() });
    try {
      const loads = [chosenPath, ladder[0]!.path].map((p) => store.modelLoadCosts(p));
      assert.notEqual(chosenPath, ladder[0]!.path);
      assert.ok(loads.every((c) => c!.medianLoadMs > 0 && c!.samples === 1));
    } finally {
      store.close();
    }
  });
});
