/**
 * Number formatting shared by the renderer, the CLI and the pure governor (its reasons), so all show the
 * same figures. Pure functions, no Node or DOM imports.
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

/**
 * Bytes in binary gibibytes, as memory is reported in messages: whole from 100 GiB (`128 GiB`), one
 * decimal from 1 GiB (`3.2 GiB`), two significant digits below (`0.064 GiB`), `< 0.001 GiB` for less than
 * a MiB, `0 GiB` for none; `—` for a value that is not a finite number.
 */
export function formatGiB(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  const gib = bytes / 1024 ** 3;
  if (gib >= 100) return `${gib.toFixed(0)} GiB`;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  if (gib >= 0.001) return `${gib.toPrecision(2)} GiB`;
  return gib <= 0 ? '0 GiB' : '< 0.001 GiB';
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

/**
 * A model variant as one label: its name and quantization, unless the name already contains the
 * quantization (in any case): "Qwen2.5 1.5B Instruct Q4_K_M", "wattwise-ladder 8.1M Q4_0".
 */
export function variantLabel(variant: { name: string; quantization: string | null | undefined }): string {
  const q = variant.quantization;
  if (q == null || q === '' || variant.name.toLowerCase().includes(q.toLowerCase())) return variant.name;
  return `${variant.name} ${q}`;
}

/**
 * A number inside a sentence, without unit: 2 significant digits under 10 ("0.19", "0.0042", "5.3", "0"),
 * whole numbers from 10 ("38", "124"); "∞", "−∞" or "?" when not finite.
 */
export function formatTwoSignificant(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : '?';
  if (Math.abs(x) >= 10) return x.toFixed(0);
  if (x === 0) return '0';
  return Number(x.toPrecision(2)).toString();
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

// -- energy and power (the renderer's gauges and the CLI print the same figures) -----------------

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

/** A share as a percentage with 2 significant digits ("0.60%", "12%", "< 0.01%", "100%"). */
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
