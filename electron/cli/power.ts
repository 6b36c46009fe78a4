/**
 * `npm run -s wattwise -- power [--json] [--sysfs-root DIR] [--watch] [--interval-ms N]`: lists every power source
 * this machine has, best first, with its state (ok / no permission / not present / unavailable / error), why,
 * the fix, the current reading in W, and the battery (percent, AC, energy left in Wh).
 *
 * Counters (RAPL) give power only between two reads, so the command reads every source twice, `--interval-ms`
 * apart (default 1000), and shows the second reading. `--watch` then reads again every interval until Ctrl+C.
 * `--json` prints one JSON object per snapshot (one line each):
 * `{ sources: [{ id, kind, label, scope, state, detail, fix, powerW }], battery: BatteryState | null }`.
 * `--sysfs-root DIR` reads `DIR/sys/class/...` instead of `/sys` with the Linux readers (on any OS), for tests and
 * for diagnosing a copy of a user's /sys; the battery fallback (systeminformation) is then off.
 *
 * Exit codes: 0 success (also after Ctrl+C in `--watch`), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { discoverPowerSources, type DiscoverOptions } from '../telemetry/discover.js';
import { readBatteryState } from '../telemetry/battery.js';
import type { BatteryState, PowerSource, PowerSourceState } from '../telemetry/types.js';

/** Help text of the command. */
export const powerUsage = `Usage: npm run -s wattwise -- power [--json] [--sysfs-root DIR] [--watch] [--interval-ms N]
  --json          one JSON object per snapshot: { sources: [...], battery }
  --sysfs-root D  read D/sys/class/power_supply and D/sys/class/powercap instead of /sys
  --watch         print again every interval until Ctrl+C
  --interval-ms N gap between the two reads of a snapshot, and the watch interval (default 1000)`;

/** One source in the output (the JSON shape). */
export interface PowerSourceReport {
  id: string;
  kind: PowerSource['kind'];
  label: string;
  scope: PowerSource['scope'];
  state: PowerSourceState;
  detail: string | null;
  fix: string | null;
  /** Current reading in W; null when the source gives none now. */
  powerW: number | null;
}

/** One snapshot (the JSON shape). */
export interface PowerReport {
  sources: PowerSourceReport[];
  battery: BatteryState | null;
}

/** Test seams: discovery options merged over the ones the flags give, and output streams. */
export interface PowerCommandIo {
  discover?: DiscoverOptions;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Runs the command; resolves with the exit code. Never throws for machine conditions. */
export async function powerCommand(args: string[], io: PowerCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  let v;
  try {
    v = parseArgs({
      args,
      options: {
        json: { type: 'boolean' },
        'sysfs-root': { type: 'string' },
        watch: { type: 'boolean' },
        'interval-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    err(`wattwise: ${(error as Error).message.split('\n')[0]}\nRun "npm run -s wattwise -- help" for usage.\n`);
    return 2;
  }
  if (v.help) {
    out(`${powerUsage}\n`);
    return 0;
  }
  const intervalMs = v['interval-ms'] === undefined ? 1000 : Number(v['interval-ms']);
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    err(`wattwise: --interval-ms must be a positive integer, got "${v['interval-ms']}"\nRun "npm run -s wattwise -- help" for usage.\n`);
    return 2;
  }
  const sysfsRoot = v['sysfs-root'] === undefined ? undefined : resolve(v['sysfs-root']);
  const platform: NodeJS.Platform = sysfsRoot !== undefined ? 'linux' : process.platform;
  const json = v.json === true;

  const sources = await discoverPowerSources({ platform, ...(sysfsRoot !== undefined ? { sysfsRoot } : {}), ...(io.discover ?? {}) });
  let stop = false;
  let wake: (() => void) | null = null;
  const onSigint = () => {
    stop = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  if (v.watch) process.on('SIGINT', onSigint);
  try {
    await readAll(sources); // primes the counters (RAPL's first read is null)
    await sleep(intervalMs);
    const print = (report: PowerReport) => out(json ? `${JSON.stringify(report)}\n` : formatPowerReport(report, v.watch === true));
    print(await snapshot(sources, platform, sysfsRoot));
    while (v.watch && !stop) {
      await sleep(intervalMs);
      if (stop) break;
      print(await snapshot(sources, platform, sysfsRoot));
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(sources.map((s) => s.dispose().catch(() => undefined)));
  }
}

async function readAll(sources: PowerSource[]): Promise<(number | null)[]> {
  return Promise.all(sources.map(async (s) => (await s.read().catch(() => null))?.powerW ?? null));
}

async function snapshot(sources: PowerSource[], platform: NodeJS.Platform, sysfsRoot: string | undefined): Promise<PowerReport> {
  const powers = await readAll(sources);
  const statuses = await Promise.all(
    sources.map((s) => s.probe().catch((e: unknown) => ({ state: 'error' as const, detail: String(e), fix: null }))),
  );
  const battery = await readBatteryState({ platform, ...(sysfsRoot !== undefined ? { sysfsRoot } : {}) });
  return {
    sources: sources.map((s, i) => {
      const status = statuses[i]!;
      return {
        id: s.id,
        kind: s.kind,
        label: s.label,
        scope: s.scope,
        state: status.state,
        detail: status.detail,
        fix: status.fix,
        // A source that read but whose state changed just after (a battery plugged in) shows no power.
        powerW: status.state === 'ok' ? (powers[i] ?? null) : null,
      };
    }),
    battery,
  };
}

const stateText: Record<PowerSourceState, string> = {
  ok: 'ok',
  'no-permission': 'no permission',
  'not-present': 'not present',
  unavailable: 'unavailable',
  error: 'error',
};

/** The human-readable table of one snapshot (with a time header when `timed`). */
export function formatPowerReport(report: PowerReport, timed = false): string {
  const lines: string[] = [];
  if (timed) lines.push(`— ${new Date().toLocaleTimeString()} —`);
  lines.push('Power sources (best first):');
  const rows = report.sources.map((s) => [
    s.label,
    s.id,
    s.scope,
    stateText[s.state],
    s.powerW === null ? '—' : `${s.powerW.toFixed(2)} W${s.kind === 'estimate' ? ' (estimated, not measured)' : ''}`,
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  report.sources.forEach((s, i) => {
    const r = rows[i]!;
    lines.push(`  ${r.slice(0, 4).map((c, j) => c.padEnd(widths[j]!)).join('  ')}  ${r[4]}`);
    if (s.detail) lines.push(`      ${s.detail}`);
    if (s.fix) lines.push(`      fix: ${s.fix}`);
  });
  const b = report.battery;
  if (!b) lines.push('Battery: none found');
  else {
    const energy =
      b.energyWh !== null ? ` · ${b.energyWh.toFixed(1)} Wh left${b.capacityWh !== null ? ` of ${b.capacityWh.toFixed(1)} Wh` : ''}` : '';
    lines.push(`Battery: ${b.percent.toFixed(0)}% · ${b.status} · ${b.onAc ? 'on AC' : 'on battery'}${energy}`);
  }
  return `${lines.join('\n')}\n`;
}
