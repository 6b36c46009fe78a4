/**
 * Number formatting shared by the renderer and the CLI, so both show the same figures.
 * Pure functions, no Node or DOM imports.
 */

/**
 * Bytes as a short decimal size, the way file managers show model files: `1.2 MB`, `4.68 GB`.
 * Uses SI units (1 kB = 1000 bytes) like Hugging Face and LM Studio list GGUF sizes.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit += 1;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** Bytes in binary gibibytes with one decimal (`3.2 GiB`), as memory is reported. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** A parameter count the way model names write it: `260K`, `656K`, `1.5B`, `8B`, `70B`. */
export function formatParameterCount(count: number | null): string {
  if (count === null || !Number.isFinite(count) || count <= 0) return '—';
  const steps: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of steps) {
    if (count >= size) {
      const v = count / size;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')}${suffix}`;
    }
  }
  return String(count);
}

/** Milliseconds as `850 ms` or `1.24 s`. */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Tokens per second with sensible precision: `3.42 tok/s`, `45.2 tok/s`, `812 tok/s`. */
export function formatTokensPerSecond(tokensPerSecond: number): string {
  if (!Number.isFinite(tokensPerSecond)) return '—';
  const v = tokensPerSecond;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} tok/s`;
}
