/** `ReplySlot`: one reply at a time, FIFO, a bounded queue, abortable waits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyQueueFullError, ReplySlot } from '../../electron/core/replySlot.js';

test('turns come in arrival order, one at a time', async () => {
  const slot = new ReplySlot();
  const order: string[] = [];
  const first = await slot.acquire();
  const second = slot.acquire().then((t) => (order.push('second'), t));
  const third = slot.acquire().then((t) => (order.push('third'), t));
  assert.equal(slot.busy, true);
  assert.equal(slot.waiting, 2);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  first.release();
  first.release(); // a second release does nothing
  (await second).release();
  (await third).release();
  assert.deepEqual(order, ['second', 'third']);
  assert.equal(slot.busy, false);
});

test('a full queue refuses at once; an aborted wait leaves the queue', async () => {
  const slot = new ReplySlot();
  const held = await slot.acquire();
  const controller = new AbortController();
  const waiting = slot.acquire({ maxWaiting: 1, signal: controller.signal });
  await assert.rejects(slot.acquire({ maxWaiting: 1 }), (e: unknown) => e instanceof ReplyQueueFullError && e.waiting === 1);
  controller.abort();
  const turn = await waiting;
  assert.equal(turn.aborted, true);
  assert.equal(slot.waiting, 0);
  // Its no-op release does not free the slot held by someone else.
  turn.release();
  assert.equal(slot.busy, true);
  const next = slot.acquire({ maxWaiting: 1 });
  held.release();
  const t = await next;
  assert.equal(t.aborted, false);
  t.release();
  assert.equal(slot.busy, false);
});

test('an already aborted signal gets no turn', async () => {
  const slot = new ReplySlot();
  const turn = await slot.acquire({ signal: AbortSignal.abort() });
  assert.equal(turn.aborted, true);
  assert.equal(slot.busy, false);
});
