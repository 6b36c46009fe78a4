/**
 * Calibration benches (issue 7):
 * - `benchBitsPerByte`: what reading per-token probabilities costs. On one model, the held-out text's
 *   tokens are evaluated side by side as a plain prefill (no outputs) and as the bits-per-byte scoring
 *   (one logit + the softmax sum per position, electron/engine/modelBench.ts), alternating, 5 times each;
 *   reported: median scoring speed ÷ median prefill speed. Scoring needs the output layer at every
 *   position where a prefill needs it only at the last, so the ratio falls with the output layer's share
 *   of the weights: on stories260K (512-token vocabulary) it must stay ≥ 0.3×; on the kit's random
 *   Llama-2 (32k vocabulary, 64 wide: the output layer is most of the model) it is only reported.
 * - `benchCalibrateLadder`: a quick calibration of the stories260K ladder (F32/F16/Q8_0/Q4_0) through the
 *   backend, as "Calibrate all" runs it: total seconds, per variant in the detail. Reported only.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { heldOutText } from '../electron/core/resources.js';
import { measureBitsPerByte, scoringTokens } from '../electron/engine/modelBench.js';
import { openRuntime } from '../electron/core/runtime.js';
import type { CalibrationStatus } from '../shared/contract.js';
import { generateLadder, ladderDir } from '../test/fixtures/ladder/ladder.js';
import { testModel } from '../test/helpers/models.js';
import type { BenchResult } from './main.js';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Bits-per-byte scoring speed ÷ plain prefill speed on the same tokens of one model.
 * @param which `stories` (512-token vocabulary) or `llama2-32k` (the kit's random Llama-2 with a 32k vocabulary).
 */
export async function benchBitsPerByte(which: 'stories' | 'llama2-32k'): Promise<BenchResult> {
  const path = testModel(which === 'stories' ? 'stories260K.gguf' : 'llama-2-tiny-random.gguf');
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: 'error' as never, progressLogs: false });
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 1024, threads: 1 });
  const sequence = context.getSequence();
  const text = heldOutText().text;
  const { tokens } = scoringTokens(model, text);
  const prefill: number[] = [];
  const scoring: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      // Prefill the same windows the scorer evaluates (context-size chunks), without outputs.
      let evaluated = 0;
      const t0 = performance.now();
      for (let begin = 0; begin < tokens.length; begin += context.contextSize) {
        await sequence.clearHistory();
        const chunk = tokens.slice(begin, begin + context.contextSize);
        await sequence.evaluateWithoutGeneratingNewTokens(chunk);
        evaluated += chunk.length;
      }
      prefill.push((evaluated * 1000) / (performance.now() - t0));
      const r = await measureBitsPerByte(model, sequence, text, new AbortController().signal, () => undefined);
      scoring.push(r.tokensPerSecond);
    }
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  const ratio = median(scoring) / median(prefill);
  const min = which === 'stories' ? 0.3 : null;
  return {
    name: `bpb-overhead-${which}`,
    metric: 'BPB scoring tok/s ÷ plain prefill tok/s',
    value: ratio,
    unit: '×',
    limit: null,
    ok: min === null || ratio >= min,
    runs: scoring.map((s, i) => s / prefill[i]!),
    detail: `${basename(path)}, ${tokens.length} tokens, 1 thread: prefill ${median(prefill).toFixed(0)} tok/s, scoring ${median(scoring).toFixed(0)} tok/s (median of 5 each, alternating)${min === null ? '; reported only (output layer dominates)' : `; needs ≥ ${min}×`}`,
  };
}

/** Total time of a quick "Calibrate all" on the stories260K ladder, seconds (reported). */
export async function benchCalibrateLadder(): Promise<BenchResult> {
  const ladder = await generateLadder({ outDir: ladderDir(), sizes: [] });
  const dir = mkdtempSync(join(tmpdir(), 'wattwise-bench-calibrate-'));
  const modelsDir = join(dir, 'models');
  mkdirSync(modelsDir);
  for (const m of ladder) symlinkSync(m.path, join(modelsDir, basename(m.path)));
  const backend = await openRuntime({ dataDir: join(dir, 'data'), transport: 'ipc', modelsDirOverride: modelsDir, gpu: false, logLevel: 'error', overrides: { threads: 1 } });
  try {
    const done = new Promise<CalibrationStatus>((resolve) => {
      backend.onEvent((e) => {
        if (e.type === 'calibration.progress' && e.status.state !== 'running') resolve(e.status);
      });
    });
    const t0 = performance.now();
    const started = await backend.request('calibration.start', { quick: true });
    if (!started.ok) throw new Error(started.error.message);
    const status = await done;
    const seconds = (performance.now() - t0) / 1000;
    const results = await backend.calibration.results();
    return {
      name: 'calibrate-ladder-quick',
      metric: 'seconds for a quick Calibrate all, 4 variants',
      value: seconds,
      unit: 's',
      limit: null,
      ok: status.state === 'done',
      runs: [seconds],
      detail: `estimated ${(started.value.estimatedMs / 1000).toFixed(1)} s; ${results.map((r) => `${r.quantization} ${r.bitsPerByte?.toFixed(4)} BPB, load ${r.loadMs.toFixed(0)} ms`).join('; ')}`,
    };
  } finally {
    await backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
