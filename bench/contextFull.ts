/**
 * Long conversations (issue 10): on the ≈ 75 MB bench model with a 512-token context, a conversation of
 * {@link turns} turns through the engine as the app runs it (rolling window, the window shifted by half
 * the context). value = median turn latency once the context has filled (after the first shift) ÷ median
 * before it; goal ≤ 2×. For comparison, the detail gives the same ratio for node-llama-cpp's own chat
 * session with its default shift (10% of the context), which re-reads the window nearly every turn once
 * full, and the p95 of both.
 */
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaChatSession } from 'node-llama-cpp';
import { LlamaEngine } from '../electron/engine/llamaEngine.js';
import type { CalibrationStore, ChatTurn } from '../electron/engine/types.js';
import { generateLadder, ladderDir } from '../test/fixtures/ladder/ladder.js';
import type { BenchResult } from './main.js';

const contextSize = 512;
const turns = 36;
const maxTokens = 24;
const threads = 1;

const noCalibrations: CalibrationStore = { getThreadCalibration: () => null, saveThreadCalibration: () => undefined };

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

const question = (i: number) => `Question ${i + 1}: tell me one more thing about the little dog, the red ball and the park.`;

/** Turn latencies (ms) split at the first turn that moved the window (`full` from then on). */
interface Split {
  before: number[];
  full: number[];
}

/** The app's path: LlamaEngine, rolling window. */
async function appConversation(modelPath: string): Promise<Split & { shifts: number }> {
  const engine = await LlamaEngine.create({ calibrationStore: noCalibrations, gpu: false, logLevel: 'error' });
  const split: Split & { shifts: number } = { before: [], full: [], shifts: 0 };
  try {
    const history: ChatTurn[] = [];
    await engine.load(modelPath, { contextSize, threads });
    for (let i = 0; i < turns; i++) {
      history.push({ role: 'user', content: question(i) });
      const t0 = performance.now();
      const r = await engine.generate({
        modelPath, systemPrompt: 'You are a helpful assistant.', history, maxTokens, contextSize, threads,
        signal: new AbortController().signal, onText: () => {}, sampling: { temperature: 0 }, contextOverflow: 'rolling-window',
      });
      const ms = performance.now() - t0;
      history.push({ role: 'assistant', content: r.text });
      if ((r.stats.reEvaluatedTokens ?? 0) > 0) split.shifts++;
      (split.shifts > 0 ? split.full : split.before).push(ms);
    }
  } finally {
    await engine.dispose();
  }
  return split;
}

/** node-llama-cpp's chat session with its default context shift, for comparison. */
async function defaultConversation(modelPath: string, fullAfterTurn: number): Promise<Split> {
  const llama = await getLlama({ gpu: false, logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize, threads });
  const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: 'You are a helpful assistant.' });
  const split: Split = { before: [], full: [] };
  try {
    for (let i = 0; i < turns; i++) {
      const t0 = performance.now();
      await session.prompt(question(i), { maxTokens, temperature: 0 });
      (i >= fullAfterTurn ? split.full : split.before).push(performance.now() - t0);
    }
  } finally {
    session.dispose();
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  return split;
}

/** The bench (see the file's docstring). */
export async function benchContextFull(): Promise<BenchResult> {
  const ladder = await generateLadder({ outDir: ladderDir(), bench: true, sizes: [], storiesQuantizations: [] });
  const model = ladder.find((m) => m.shapeKey === 'bench-75mb');
  if (!model) throw new Error('bench model bench-75mb was not generated');
  const app = await appConversation(model.path);
  if (app.full.length === 0) throw new Error(`the conversation never filled the ${contextSize}-token context in ${turns} turns`);
  const fullAfter = app.before.length;
  const base = await defaultConversation(model.path, fullAfter);
  const ratio = quantile(app.full, 0.5) / quantile(app.before.slice(1), 0.5);
  const baseRatio = quantile(base.full, 0.5) / quantile(base.before.slice(1), 0.5);
  const ms = (x: number) => `${Math.round(x)} ms`;
  return {
    name: 'context-full-latency',
    metric: 'median turn latency after the context filled ÷ before (rolling window)',
    value: ratio,
    unit: '×',
    limit: 2,
    ok: ratio <= 2,
    runs: app.full,
    detail:
      `${turns} turns, context ${contextSize}, ${maxTokens}-token replies, ${threads} thread; full from turn ${fullAfter + 1}, ` +
      `${app.shifts} shifts; median ${ms(quantile(app.before.slice(1), 0.5))} → ${ms(quantile(app.full, 0.5))}, p95 after ${ms(quantile(app.full, 0.95))}; ` +
      `node-llama-cpp default shift: ${baseRatio.toFixed(2)}×, p95 after ${ms(quantile(base.full, 0.95))}`,
  };
}
