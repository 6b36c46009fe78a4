/** The pure part of thread calibration: candidate thread counts and choosing the winner. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseBestThreads,
  decodeSpeed,
  defaultThreadCandidates,
  normalizeThreadCandidates,
  THREAD_TIE_TOLERANCE,
} from '../../electron/engine/threadCalibration.js';

describe('defaultThreadCandidates', () => {
  test('1, half, three quarters and all physical cores', () => {
    assert.deepEqual(defaultThreadCandidates(1), [1]);
    assert.deepEqual(defaultThreadCandidates(2), [1, 2]);
    assert.deepEqual(defaultThreadCandidates(4), [1, 2, 3, 4]);
    assert.deepEqual(defaultThreadCandidates(8, 16), [1, 4, 6, 8]);
    assert.deepEqual(defaultThreadCandidates(16, 32), [1, 8, 12, 16]);
  });

  test('capped at the logical cores', () => {
    assert.deepEqual(defaultThreadCandidates(8, 4), [1, 4]);
  });

  test('nonsense core counts still give [1]', () => {
    assert.deepEqual(defaultThreadCandidates(0), [1]);
    assert.deepEqual(defaultThreadCandidates(Number.NaN), [1]);
  });
});

describe('normalizeThreadCandidates', () => {
  test('whole, ≥ 1, capped, deduplicated, ascending', () => {
    assert.deepEqual(normalizeThreadCandidates([4, 2, 2, 0, -3, 2.7, 99, Number.NaN], 8), [1, 2, 4, 8]);
  });
  test('never empty', () => {
    assert.deepEqual(normalizeThreadCandidates([], 8), [1]);
  });
});

describe('chooseBestThreads', () => {
  test('the fastest wins', () => {
    assert.equal(chooseBestThreads([{ threads: 1, decodeTokensPerSecond: 10 }, { threads: 4, decodeTokensPerSecond: 30 }, { threads: 8, decodeTokensPerSecond: 20 }]), 4);
  });

  test('one thread wins when more threads are slower (small machines)', () => {
    assert.equal(chooseBestThreads([{ threads: 1, decodeTokensPerSecond: 3400 }, { threads: 2, decodeTokensPerSecond: 150 }]), 1);
  });

  test('ties go to fewer threads', () => {
    assert.equal(chooseBestThreads([{ threads: 2, decodeTokensPerSecond: 50 }, { threads: 1, decodeTokensPerSecond: 50 }]), 1);
    // Within the tolerance counts as a tie.
    const almost = 100 * (1 - THREAD_TIE_TOLERANCE / 2);
    assert.equal(chooseBestThreads([{ threads: 4, decodeTokensPerSecond: almost }, { threads: 8, decodeTokensPerSecond: 100 }]), 4);
    // Beyond it does not.
    assert.equal(chooseBestThreads([{ threads: 4, decodeTokensPerSecond: 80 }, { threads: 8, decodeTokensPerSecond: 100 }]), 8);
    // With tolerance 0 only exact ties count.
    assert.equal(chooseBestThreads([{ threads: 4, decodeTokensPerSecond: 99.9 }, { threads: 8, decodeTokensPerSecond: 100 }], 0), 8);
  });

  test('ignores unusable trials; throws when none is usable', () => {
    assert.equal(chooseBestThreads([{ threads: 2, decodeTokensPerSecond: Number.NaN }, { threads: 3, decodeTokensPerSecond: 5 }]), 3);
    assert.throws(() => chooseBestThreads([]), RangeError);
  });
});

describe('decodeSpeed', () => {
  test('tokens per second', () => {
    assert.equal(decodeSpeed(24, 1000), 24);
    assert.equal(decodeSpeed(24, 500), 48);
    assert.equal(decodeSpeed(0, 10), 0);
    assert.ok(Number.isFinite(decodeSpeed(5, 0)));
  });
});
