/**
 * Idle cost with a model loaded (issue 10): the whole backend as the app runs it (store, engine with the
 * 75 MB bench model loaded, the power sampler at its idle rate, the governor, the idle-unload check),
 * doing nothing for {@link windowMs}: its CPU time ÷ wall time, as a fraction of one core. Goal ≤ 0.5%.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRuntime } from '../electron/core/runtime.js';
import { generateLadder, ladderDir } from '../test/fixtures/ladder/ladder.js';
import type { BenchResult } from './main.js';

/** Each measured window, ms, and how many. */
const windowMs = 10_000;
const windows = 3;

/** The bench (see the file's docstring). */
export async function benchIdleWithModel(): Promise<BenchResult> {
  const ladder = await generateLadder({ outDir: ladderDir(), bench: true, sizes: [], storiesQuantizations: [] });
  const model = ladder.find((m) => m.shapeKey === 'bench-75mb');
  if (!model) throw new Error('bench model bench-75mb was not generated');
  const dataDir = mkdtempSync(join(tmpdir(), 'wattwise-bench-idle-'));
  const backend = await openRuntime({ dataDir, transport: 'ipc', gpu: false, discovery: false, logLevel: 'error', modelPathsAnywhere: true });
  try {
    const loaded = await backend.request('engine.load', { modelPath: model.path });
    if (!loaded.ok) throw new Error(loaded.error.message);
    await new Promise((r) => setTimeout(r, 15_000)); // let start-up work (discovery, the first decision, the load) settle
    const runs: number[] = [];
    for (let i = 0; i < windows; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowMs));
      const cpu = process.cpuUsage(cpu0);
      runs.push((cpu.user + cpu.system) / 1000 / (performance.now() - t0));
    }
    const sorted = [...runs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const state = (await backend.request('engine.status', {})) as { ok: boolean; value?: { state: string } };
    return {
      name: 'idle-with-model',
      metric: 'CPU time ÷ wall time with a model loaded and nothing to do',
      value: median,
      unit: 'core',
      limit: 0.005,
      ok: median < 0.005,
      runs,
      detail: `${(model.sizeBytes / 1e6).toFixed(0)} MB model loaded (${state.ok ? state.value?.state : '?'}), sampler and governor running; ${windows} × ${windowMs / 1000} s; median ${(median * 100).toFixed(3)}% of a core (goal ≤ 0.5%)`,
    };
  } finally {
    await backend.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
