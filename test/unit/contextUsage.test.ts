/**
 * The context meter's reading of a `chat.context` answer (renderer/src/lib/contextUsage.ts): figures,
 * "≈" for estimates, the 85% warning, and the sentence for each overflow setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContextUsage } from '../../shared/contract.js';
import { contextView, overflowNotice } from '../../renderer/src/lib/contextUsage.js';

const usage = (patch: Partial<ContextUsage>): ContextUsage => ({
  contextSize: 2048,
  historyTokens: 1000,
  draftTokens: 234,
  replyReserveTokens: 200,
  exact: true,
  overflow: 'rolling-window',
  ...patch,
});

test('tokens in the window over the context size, exact or estimated', () => {
  const view = contextView(usage({}));
  assert.equal(view.label, '1,234 / 2,048 tokens');
  assert.equal(view.tone, 'ok');
  assert.equal(view.notice, null);
  assert.equal(view.usedTokens, 1234);
  assert.equal(view.neededTokens, 1434);
  assert.ok(Math.abs(view.usedFraction - 1234 / 2048) < 1e-9);
  assert.ok(Math.abs(view.reserveFraction - 200 / 2048) < 1e-9);
  assert.equal(contextView(usage({ exact: false })).label, '≈ 1,234 / 2,048 tokens');
});

test('past 85% of the context (reply reserve included) the meter warns, before anything is dropped', () => {
  // 1,500 + 0 + 200 = 1,700, under 0.85 × 2,048 = 1,740.8.
  assert.equal(contextView(usage({ historyTokens: 1500, draftTokens: 0 })).tone, 'ok');
  // 1,560 + 0 + 200 = 1,760 > 1,740.8.
  const warn = contextView(usage({ historyTokens: 1560, draftTokens: 0 }));
  assert.equal(warn.tone, 'warn');
  assert.equal(warn.notice, null);
});

test('over the context, each overflow setting says what will happen', () => {
  const over = { historyTokens: 1900, draftTokens: 100 };
  const rolling = contextView(usage({ ...over, overflow: 'rolling-window' }));
  assert.equal(rolling.tone, 'full');
  assert.equal(rolling.notice, 'Oldest messages will be dropped to make room');
  const middle = contextView(usage({ ...over, overflow: 'truncate-middle' }));
  assert.equal(middle.tone, 'full');
  assert.equal(middle.notice, 'The middle of the conversation will be dropped; your first message stays');
  const stop = contextView(usage({ ...over, overflow: 'stop' }));
  assert.equal(stop.tone, 'blocked');
  assert.equal(stop.notice, 'The context is full: start a new chat or shorten your message');
  assert.equal(Object.keys(overflowNotice).length, 3);
  // The bar never goes past its end.
  const far = contextView(usage({ historyTokens: 9000 }));
  assert.equal(far.usedFraction, 1);
  assert.equal(far.reserveFraction, 0);
});

test('a message that alone cannot fit is said so whatever the setting (dropping history cannot help)', () => {
  const view = contextView(usage({ historyTokens: 40, draftTokens: 1900, overflow: 'rolling-window' }));
  assert.equal(view.tone, 'blocked');
  assert.match(view.notice ?? '', /^Your message alone does not fit: 1,900 tokens \+ 200 for the reply > 2,048\. Shorten it/);
});
