import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDurationMs, formatParameterCount, formatTokensPerSecond } from '../../shared/format.js';

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
