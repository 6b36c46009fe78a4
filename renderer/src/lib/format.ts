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


// Energy and power figures live in shared/format so the CLI prints the same ones.
export {
  JOULES_PER_WH,
  formatSignificant,
  formatEnergyJ,
  formatWhFromJ,
  formatWh,
  formatPowerW,
  formatPowerNumber,
  formatJPerToken,
  formatMinutesLeft,
  formatShare,
  approx,
} from '@shared/format';
