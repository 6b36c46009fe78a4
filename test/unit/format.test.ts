import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDurationMs, formatGiB, formatParameterCount, formatTokensPerSecond, formatTwoSignificant, variantLabel } from '../../shared/format.js';

test('formatBytes uses SI units like model listings', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1_185_376), '1.19 MB');
  assert.equal(formatBytes(4_683_073_248), '4.68 GB');
  assert.equal(formatBytes(749_728), '750 kB');
  assert.equal(formatBytes(-1), '—');
});

test('formatParameterCount writes counts like model names', () => {
  assert.equal(formatParameterCount(260_000), '260K');
  assert.equal(formatParameterCount(1_500_000_000), '1.5B');
  assert.equal(formatParameterCount(8_030_000_000), '8B');
  assert.equal(formatParameterCount(null), '—');
});

test('formatDurationMs and formatTokensPerSecond', () => {
  assert.equal(formatDurationMs(850.4), '850 ms');
  assert.equal(formatDurationMs(1240), '1.24 s');
  assert.equal(formatTokensPerSecond(3.421), '3.42 tok/s');
  assert.equal(formatTokensPerSecond(45.23), '45.2 tok/s');
  assert.equal(formatTokensPerSecond(812.4), '812 tok/s');
});

test('energy and power figures', async () => {
  const f = await import('../../shared/format.js');
  assert.equal(f.formatEnergyJ(0.5123), '0.512 J');
  assert.equal(f.formatEnergyJ(12.44), '12.4 J');
  assert.equal(f.formatEnergyJ(1240), '1.24 kJ');
  assert.equal(f.formatWh(0.00341), '0.0034 Wh');
  assert.equal(f.formatWh(12.44), '12.4 Wh');
  assert.equal(f.formatWhFromJ(3600), '1.00 Wh');
  assert.equal(f.formatPowerW(9.84), '9.8 W');
  assert.equal(f.formatJPerToken(0.213), '0.21 J/token');
  assert.equal(f.formatMinutesLeft(192), '3 h 12 min');
  assert.equal(f.formatMinutesLeft(0.5), '< 1 min');
  assert.equal(f.formatShare(0.006), '0.60%');
  assert.equal(f.formatShare(0.00000001), '< 0.01%');
  assert.equal(f.approx(false), '≈ ');
  assert.equal(f.formatEnergyJ(-1), '—');
});

test('variantLabel: name and quantization once, whatever the case (the governor and the UI share it)', () => {
  assert.equal(variantLabel({ name: 'Qwen2.5 1.5B Instruct', quantization: 'Q4_K_M' }), 'Qwen2.5 1.5B Instruct Q4_K_M');
  assert.equal(variantLabel({ name: 'Qwen2.5-7B Q4_K_M', quantization: 'Q4_K_M' }), 'Qwen2.5-7B Q4_K_M');
  assert.equal(variantLabel({ name: 'qwen2.5-7b-instruct-q4_k_m', quantization: 'Q4_K_M' }), 'qwen2.5-7b-instruct-q4_k_m');
  assert.equal(variantLabel({ name: 'stories260K', quantization: null }), 'stories260K');
  assert.equal(variantLabel({ name: 'stories260K', quantization: '' }), 'stories260K');
});

test('formatTwoSignificant: 2 significant digits under 10, whole numbers from 10', () => {
  assert.equal(formatTwoSignificant(0.19), '0.19');
  assert.equal(formatTwoSignificant(0.004213), '0.0042');
  assert.equal(formatTwoSignificant(5.26), '5.3');
  assert.equal(formatTwoSignificant(38.4), '38');
  assert.equal(formatTwoSignificant(0), '0');
  assert.equal(formatTwoSignificant(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatTwoSignificant(Number.NEGATIVE_INFINITY), '−∞');
  assert.equal(formatTwoSignificant(Number.NaN), '?');
});

test('formatGiB: memory in messages', () => {
  assert.equal(formatGiB(3.2 * 1024 ** 3), '3.2 GiB');
  assert.equal(formatGiB(128 * 1024 ** 3), '128 GiB');
  assert.equal(formatGiB(0.064 * 1024 ** 3), '0.064 GiB');
  assert.equal(formatGiB(1024), '< 0.001 GiB');
  assert.equal(formatGiB(0), '0 GiB');
  assert.equal(formatGiB(Number.NaN), '—');
});
