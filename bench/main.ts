/**
 * `npm run bench`: runs the named benches one after another and prints a table; exits 1 when one is over
 * its limit. `npm run bench -- NAME...` runs only the benches whose name contains one of the words.
 *
 * To add a bench: export an `async () => BenchResult` from a file under bench/ and append it to
 * {@link benches}.
 */
import { pathToFileURL } from 'node:url';
import { benchSampler, benchSamplerTickGaps, benchSamplerTickSkip } from './sampler.js';
import { benchGovernorDecide, benchThreads } from './governor.js';
import { benchBitsPerByte, benchCalibrateLadder } from './calibration.js';
import { benchApiStreaming } from './api.js';
import { benchIdleWithModel } from './idle.js';
import { benchContextFull } from './contextFull.js';

/** What one bench reports. */
export interface BenchResult {
  /** Shown in the table, e.g. "sampler overhead (discovered)". */
  name: string;
  /** What `value` measures, in words. */
  metric: string;
  /** The figure compared with `limit` (usually a median over `runs`). */
  value: number;
  /** Unit of `value` and `limit`, e.g. "core", "ms". */
  unit: string;
  /** Pass when `value < limit`; null for a bench that only reports. */
  limit: number | null;
  /** Whether the bench passed (true when `limit` is null). */
  ok: boolean;
  /** Each run's figure, in `unit`. */
  runs: number[];
  /** One line of context: setup, repetitions, secondary figures. */
  detail: string;
}

/** A bench the runner knows by name. */
export interface NamedBench {
  name: string;
  run: () => Promise<BenchResult>;
}

/** Every bench, in the order they run. */
export const benches: NamedBench[] = [
  { name: 'sampler-discovered', run: () => benchSampler({ setup: 'discovered' }) },
  { name: 'sampler-in-memory', run: () => benchSampler({ setup: 'in-memory' }) },
  { name: 'sampler-tick-gaps', run: benchSamplerTickGaps },
  { name: 'sampler-tick-skip', run: () => benchSamplerTickSkip() },
  { name: 'governor-decide-100', run: benchGovernorDecide },
  { name: 'threads-75mb', run: () => benchThreads('75mb') },
  { name: 'threads-270mb', run: () => benchThreads('270mb') },
  { name: 'bpb-overhead-stories', run: () => benchBitsPerByte('stories') },
  { name: 'bpb-overhead-llama2-32k', run: () => benchBitsPerByte('llama2-32k') },
  { name: 'calibrate-ladder-quick', run: benchCalibrateLadder },
  { name: 'api-streaming-overhead', run: benchApiStreaming },
  { name: 'idle-with-model', run: benchIdleWithModel },
  { name: 'context-full-latency', run: benchContextFull },
];

/** A number with 3 significant digits, in exponent form when tiny. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 0.001 ? x.toExponential(2) : x.toPrecision(3);
}

/** The results as an aligned text table. */
export function formatTable(results: BenchResult[]): string {
  const rows = [
    ['bench', 'value', 'limit', 'result', 'detail'],
    ...results.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, r.limit === null ? '-' : `< ${fmt(r.limit)} ${r.unit}`, r.ok ? 'ok' : 'OVER', r.detail]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

/** Runs the benches selected by `filters` (all when empty); returns the exit code. */
export async function main(filters: string[]): Promise<number> {
  const selected = benches.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no bench matches ${filters.join(' ')}; benches: ${benches.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const results: BenchResult[] = [];
  for (const bench of selected) {
    process.stderr.write(`running ${bench.name}...\n`);
    try {
      results.push(await bench.run());
    } catch (error) {
      results.push({ name: bench.name, metric: 'failed', value: Number.NaN, unit: '', limit: null, ok: false, runs: [], detail: error instanceof Error ? error.message : String(error) });
    }
  }
  console.log(formatTable(results));
  return results.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
