/** Texts are cut by UTF-8 bytes before tokenizing: never through a character, with a visible mark. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BYTES_PER_TOKEN, trimToBytes } from '../../electron/engine/llamaEngine.js';

test('within the limit: unchanged; over it: cut at a character boundary, keeping the asked end', () => {
  assert.equal(trimToBytes('hello', 5, 'end'), 'hello');
  assert.equal(trimToBytes('hello world', 5, 'end'), '…world');
  assert.equal(trimToBytes('hello world', 5, 'start'), 'hello…');
  // Emoji are 4 bytes: 10 bytes keep 2 whole ones, never half of one.
  const emoji = '😀'.repeat(10);
  assert.equal(trimToBytes(emoji, 10, 'end'), `…${'😀'.repeat(2)}`);
  assert.equal(trimToBytes(emoji, 10, 'start'), `${'😀'.repeat(2)}…`);
  for (const s of [trimToBytes(emoji, 10, 'end'), trimToBytes('é'.repeat(50), 33, 'start')]) assert.ok(!s.includes('\uFFFD'), s);
  // A 400 KB message against a 2,048-token context: 32 KB of it.
  const big = '😀'.repeat(100_000);
  const cut = trimToBytes(big, 2048 * MAX_BYTES_PER_TOKEN, 'end');
  assert.ok(Buffer.byteLength(cut) <= 2048 * MAX_BYTES_PER_TOKEN + 3);
});
