/**
 * Sizes, parameter counts, durations and speeds come from shared/format, so the app and the CLI show the
 * same figures.
 */
import { formatBytes, formatDurationMs, formatParameterCount, formatTokensPerSecond } from '@shared/format';

export { formatBytes };

/** Parameter count as people write it ("260K", "1.5B"), or null when unknown. */
export function formatParams(count: number | null): string | null {
  return count === null || count <= 0 ? null : formatParameterCount(count);
}

/** Whole thousands get a thin grouping: 12,345. */
export function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export const formatMs = formatDurationMs;
export const formatRate = formatTokensPerSecond;

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const DAY = 86_400_000;

/** Short relative time for the sidebar: "now", "5m", "3h", "Yesterday", "Tue", "12 Mar", "12 Mar 2023". */
export function relativeTime(at: number, now: number = Date.now()): string {
  const diff = now - at;
  if (diff < 60_000) return 'now';
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m`;
  const today = startOfDay(now);
  if (at >= today) return `${Math.floor(diff / 3_600_000)}h`;
  if (at >= today - DAY) return 'Yesterday';
  const date = new Date(at);
  if (at >= today - 6 * DAY) return date.toLocaleDateString(undefined, { weekday: 'short' });
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

/** Full date and time, for tooltips. */
export function fullTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export type DateGroup = 'Today' | 'Yesterday' | 'Previous 7 days' | 'Older';
export const dateGroups: DateGroup[] = ['Today', 'Yesterday', 'Previous 7 days', 'Older'];

export function dateGroup(at: number, now: number = Date.now()): DateGroup {
  const today = startOfDay(now);
  if (at >= today) return 'Today';
  if (at >= today - DAY) return 'Yesterday';
  if (at >= today - 7 * DAY) return 'Previous 7 days';
  return 'Older';
}

/** Groups items (already sorted newest first) by day bucket, keeping the order. */
export function groupByDate<T>(items: T[], at: (item: T) => number, now: number = Date.now()): { group: DateGroup; items: T[] }[] {
  const buckets = new Map<DateGroup, T[]>();
  for (const item of items) {
    const group = dateGroup(at(item), now);
    const list = buckets.get(group);
    if (list) list.push(item);
    else buckets.set(group, [item]);
  }
  return dateGroups.filter((g) => buckets.has(g)).map((group) => ({ group, items: buckets.get(group) ?? [] }));
}

/** The file name of a path (either separator). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/**
 * Splits a search snippet into plain and matched parts: the backend marks matches as `[match]`.
 * The result is rendered as text nodes and <mark> elements, never as HTML.
 */
export function splitSnippet(snippet: string): { text: string; match: boolean }[] {
  const parts: { text: string; match: boolean }[] = [];
  const pattern = /\[([^\[\]]*)\]/g;
  let last = 0;
  let found: RegExpExecArray | null;
  while ((found = pattern.exec(snippet))) {
    if (found.index > last) parts.push({ text: snippet.slice(last, found.index), match: false });
    if (found[1]) parts.push({ text: found[1], match: true });
    last = found.index + found[0].length;
  }
  if (last < snippet.length) parts.push({ text: snippet.slice(last), match: false });
  return parts;
}


// -- energy and power -------------------------------------------------------------------------------
// Candidates for shared/format.ts (the CLI prints the same figures); pure, no DOM.

/** Joules in one watt-hour (1 Wh = 3600 W·s, by definition). */
export const JOULES_PER_WH = 3600;

/**
 * `value` with `digits` significant digits, without exponent notation, with thousands grouped: "0.21",
 * "0.010", "12.4", "124", "1,240" (integers with more digits keep all of them). With `trim`, zeros at the
 * end of the decimals go ("10.0" → "10", for chart axes).
 */
export function formatSignificant(value: number, digits = 3, trim = false): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  let decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  let fixed = abs.toFixed(Math.min(decimals, 20));
  // Rounding may carry into one more digit (9.996 → "10.00"): one decimal fewer then.
  if (decimals > 0 && Math.floor(Math.log10(Number(fixed))) > Math.floor(Math.log10(abs))) {
    decimals -= 1;
    fixed = abs.toFixed(decimals);
  }
  const text = trim && fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
  const [whole = '0', fraction] = text.split('.');
  const grouped = Number(whole).toLocaleString('en-US');
  return `${value < 0 ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

/**
 * Energy in joules: `J` below 1 kJ, then `kJ`, 3 significant digits ("0.512 J", "12.4 J", "124 J",
 * "1.24 kJ", "1,240 kJ"). "—" for a value that is not a finite number ≥ 0.
 */
export function formatEnergyJ(energyJ: number): string {
  if (!Number.isFinite(energyJ) || energyJ < 0) return '—';
  if (energyJ === 0) return '0 J';
  if (energyJ < 999.5) return `${formatSignificant(energyJ, 3)} J`;
  return `${formatSignificant(energyJ / 1000, 3)} kJ`;
}

/** Energy in joules shown in watt-hours, 2–3 significant digits ("0.0034 Wh", "0.34 Wh", "12.4 Wh"). */
export function formatWhFromJ(energyJ: number): string {
  if (!Number.isFinite(energyJ) || energyJ < 0) return '—';
  return formatWh(energyJ / JOULES_PER_WH);
}

/** Watt-hours with 2 significant digits below 1 Wh and 3 from 1 Wh ("0.0034 Wh", "0.34 Wh", "12.4 Wh"). */
export function formatWh(energyWh: number): string {
  if (!Number.isFinite(energyWh) || energyWh < 0) return '—';
  if (energyWh === 0) return '0 Wh';
  return `${formatSignificant(energyWh, energyWh < 1 ? 2 : 3)} Wh`;
}

/** Power in watts with one decimal ("9.8 W", "0.4 W", "112.0 W"). */
export function formatPowerW(powerW: number): string {
  if (!Number.isFinite(powerW) || powerW < 0) return '—';
  return `${powerW.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} W`;
}

/** The number of {@link formatPowerW} without its unit ("9.8"), for large gauge figures. */
export function formatPowerNumber(powerW: number): string {
  return formatPowerW(powerW).replace(/ W$/, '');
}

/**
 * Energy per generated token, 2 significant digits below 1 and 3 from 1 ("0.21 J/token",
 * "0.0042 J/token", "1.44 J/token", "38.0 J/token" is written "38 J/token").
 */
export function formatJPerToken(energyJPerToken: number): string {
  if (!Number.isFinite(energyJPerToken) || energyJPerToken < 0) return '—';
  if (energyJPerToken === 0) return '0 J/token';
  return `${formatSignificant(energyJPerToken, energyJPerToken < 1 ? 2 : 3)} J/token`;
}

/** Minutes as "3 h 12 min", "45 min", "< 1 min"; "—" when unknown or negative. */
export function formatMinutesLeft(minutes: number | null): string {
  if (minutes === null || !Number.isFinite(minutes) || minutes < 0) return '—';
  if (minutes < 1) return '< 1 min';
  const total = Math.round(minutes);
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** A share as a percentage with 2 significant digits ("0.6%", "12%", "< 0.01%", "100%"). */
export function formatShare(fraction: number): string {
  if (!Number.isFinite(fraction) || fraction < 0) return '—';
  if (fraction === 0) return '0%';
  const percent = fraction * 100;
  if (percent < 0.01) return '< 0.01%';
  return `${formatSignificant(percent, percent >= 100 ? 3 : 2)}%`;
}

/** Prefix for a figure that comes from a model, not a sensor: "≈ " when `measured` is false. */
export function approx(measured: boolean): string {
  return measured ? '' : '≈ ';
}
