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
