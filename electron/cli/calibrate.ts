/**
 * `wattwise calibrate`: runs the calibration bench on the installed models (or the given files) and stores
 * the results, like the app's "Calibrate all". Progress goes to stderr; `--json` prints one JSON document
 * on stdout at the end: `{"results": [CalibrationResult...], "failed": [{"modelPath", "error"}]}`.
 *
 * Exit codes: 0 all measured; 1 a variant failed (one stderr line; the JSON still lists the others);
 * 2 bad usage; 130 interrupted (Ctrl+C cancels; what was measured is kept).
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { CalibrationPhase, CalibrationResult, CalibrationStatus } from '../../shared/contract.js';
import { formatDurationMs } from '../../shared/format.js';
import { openRuntime } from '../core/runtime.js';
import { defaultDataDir } from '../core/paths.js';

/** Usage of the command (also in main.ts's help). */
export const calibrateUsage = `calibrate [--models-dir DIR] [--model FILE ...] [--data-dir DIR] [--quick] [--cpu-only] [--json]
           Measures each model on this machine (quality as bits per byte on a held-out text, load
           time, prompt and decode speed, J/token, peak memory, sustained slowdown) and stores it for
           the governor. --quick: a short decode run (seconds per model instead of about a minute).`;

/** Bad usage: exit 2. */
export class CalibrateUsageError extends Error {}

const phaseWords: Record<CalibrationPhase, string> = {
  load: 'loading',
  threads: 'finding the best thread count',
  'bits-per-byte': 'measuring quality (bits per byte)',
  prefill: 'prompt speed',
  decode: 'sustained decode',
};

/**
 * Runs the command. @returns the exit code.
 * @throws CalibrateUsageError for bad flags; Error (one line) when the run cannot start.
 */
export async function calibrateCommand(args: string[]): Promise<number> {
  let v: { [k: string]: string | boolean | string[] | undefined };
  try {
    v = parseArgs({
      args,
      options: {
        'models-dir': { type: 'string' },
        model: { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        quick: { type: 'boolean' },
        'cpu-only': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new CalibrateUsageError((error as Error).message);
  }
  const json = v.json === true;
  const modelPaths = Array.isArray(v.model) ? v.model.map((m) => resolve(m)) : undefined;
  const backend = await openRuntime({
    dataDir: typeof v['data-dir'] === 'string' ? resolve(v['data-dir']) : defaultDataDir(),
    transport: 'ipc',
    modelsDirOverride: typeof v['models-dir'] === 'string' ? v['models-dir'] : null,
    gpu: v['cpu-only'] ? false : 'auto',
    logLevel: 'error',
  });
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    void backend.request('calibration.cancel', {});
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY === true;
  let lastLine = '';
  let lastPrintAt = 0;
  const print = (line: string, force = false) => {
    if (line === lastLine) return;
    const now = Date.now();
    if (!tty && !force && now - lastPrintAt < 2000) return;
    lastLine = line;
    lastPrintAt = now;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  try {
    const quick = v.quick === true;
    // In-process calls: `--model FILE` may name a file outside the models folder (the API refuses those).
    const estimate = await backend.calibration.estimate({ ...(modelPaths ? { modelPaths } : {}), quick, anyFile: true });
    process.stderr.write(
      `Calibrating ${estimate.variants.length} ${estimate.variants.length === 1 ? 'model' : 'models'} (${quick ? 'quick' : 'full'}), about ${formatDurationMs(estimate.totalMs)}\n`,
    );
    const finished = new Promise<CalibrationStatus>((resolveDone) => {
      backend.onEvent((event) => {
        if (event.type !== 'calibration.progress') return;
        const st = event.status;
        const i = st.variants.findIndex((x) => x.state === 'running');
        if (i >= 0) {
          const cur = st.variants[i]!;
          print(
            `[${i + 1}/${st.variants.length}] ${cur.name}${cur.quantization ? ` ${cur.quantization}` : ''}: ${cur.phase ? phaseWords[cur.phase] : ''} ${Math.round(cur.fraction * 100)}% · overall ${Math.round(st.fraction * 100)}%`,
          );
        } else if (st.waiting) print(st.waiting, true);
        if (st.state !== 'running') resolveDone(st);
      });
    });
    const started = await backend.calibration.start({ ...(modelPaths ? { modelPaths } : {}), quick, anyFile: true });
    const status = started.state === 'running' ? await finished : started;
    if (tty) process.stderr.write('\n');
    const results: CalibrationResult[] = [];
    for (const variant of status.variants) {
      if (variant.state !== 'done') continue;
      const r = await backend.calibration.resultFor(variant.modelPath);
      if (r) results.push({ ...r, modelPath: variant.modelPath });
    }
    const failed = status.variants.filter((x) => x.state === 'failed').map((x) => ({ modelPath: x.modelPath, error: x.error ?? 'failed' }));
    if (json) {
      process.stdout.write(`${JSON.stringify({ results, failed })}\n`);
    } else {
      for (const r of results) {
        process.stdout.write(
          `${r.modelName} ${r.quantization ?? ''}: ${r.bitsPerByte === null ? '—' : r.bitsPerByte.toFixed(3)} bits/byte · load ${formatDurationMs(r.loadMs)} · ` +
            `prefill ${r.prefillTokensPerSecond.toFixed(0)} tok/s · decode ${r.decodeTokensPerSecond.toFixed(1)} tok/s · ` +
            `${r.energyJPerToken === null ? 'no energy reading' : `${r.energyMeasured ? '' : '≈'}${r.energyJPerToken.toPrecision(3)} J/token (${r.energySource})`} · ` +
            `peak ${(r.peakRssBytes / 1024 ** 2).toFixed(0)} MiB · sustained ${(r.sustainedSlowdown * 100).toFixed(0)}% slower at the end\n`,
        );
      }
    }
    if (interrupted || status.state === 'cancelled') return 130;
    if (failed.length > 0) {
      process.stderr.write(`wattwise: calibration failed for ${failed.length} of ${status.variants.length}: ${failed[0]!.modelPath}: ${failed[0]!.error}\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await backend.dispose();
  }
}
