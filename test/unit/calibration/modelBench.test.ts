/** The calibration bench's pure arithmetic: scoring windows over a long text, and decode speeds per segment. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSpeeds, scoringWindows } from '../../../electron/engine/modelBench.js';

describe('scoringWindows', () => {
  test('every token from 1 on is scored exactly once, each window within the context', () => {
    for (const [n, w] of [[10, 1024], [2337, 1024], [1025, 1024], [3000, 512], [5, 2], [100, 7]] as const) {
      const windows = scoringWindows(n, w);
      const scored = new Array<number>(n).fill(0);
      for (const win of windows) {
        assert.ok(win.end - win.begin <= w, `window ${win.begin}-${win.end} fits ${w}`);
        assert.ok(win.scoreFrom > win.begin, 'a scored token has context before it');
        for (let t = win.scoreFrom; t < win.end; t++) scored[t]!++;
      }
      assert.equal(scored[0], 0, 'token 0 has no context');
      assert.deepEqual(scored.slice(1), new Array<number>(n - 1).fill(1), `n=${n} w=${w}`);
    }
  });

  test('later windows give each scored token at least half a window of context', () => {
    const windows = scoringWindows(5000, 1024);
    for (const win of windows.slice(1)) assert.ok(win.scoreFrom - win.begin >= 512, JSON.stringify(win));
  });

  test('nothing to score for 0 or 1 tokens', () => {
    assert.deepEqual(scoringWindows(0, 1024), []);
    assert.deepEqual(scoringWindows(1, 1024), []);
  });
});

describe('decodeSpeeds', () => {
  test('tokens ÷ decode time, leaving out each segment\'s first token and the gaps between segments', () => {
    // Two segments of 11 tokens, one every 10 ms; a 1 s pause between them is not decode time.
    const seg = (t0: number) => Array.from({ length: 11 }, (_, i) => t0 + i * 10);
    const r = decodeSpeeds([seg(0), seg(1100)]);
    assert.equal(r.tokens, 20);
    assert.equal(r.durationMs, 200);
    assert.equal(r.tokensPerSecond, 100);
    assert.equal(r.firstQuarterTokensPerSecond, 100);
    assert.equal(r.lastQuarterTokensPerSecond, 100);
  });

  test('a machine that slows down: the last quarter is slower than the first', () => {
    // 3 segments (the first is a warm-up and not counted): 10 ms per token, then 20 ms.
    const fast = Array.from({ length: 41 }, (_, i) => i * 10);
    const slow = Array.from({ length: 41 }, (_, i) => 1000 + i * 20);
    const r = decodeSpeeds([[0, 500], fast, slow]);
    assert.equal(r.tokens, 80);
    assert.ok(r.firstQuarterTokensPerSecond > r.lastQuarterTokensPerSecond * 1.5, JSON.stringify(r));
    assert.ok(Math.abs(r.lastQuarterTokensPerSecond - 50) < 1, JSON.stringify(r));
  });

  test('no usable timing: zeros, never NaN', () => {
    for (const segs of [[], [[5]], [[5, 5, 5]]]) {
      const r = decodeSpeeds(segs);
      for (const v of Object.values(r)) assert.ok(Number.isFinite(v), JSON.stringify(r));
      assert.equal(r.tokensPerSecond, 0);
    }
  });
});
