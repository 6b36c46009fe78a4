/**
 * Crafted and special files never hang, crash or exhaust the catalog: sparse multi-GiB files whose header
 * declares a 2 GiB string, 10 million tensors or millions of keys are listed unusable within seconds and
 * with bounded memory (they used to abort the process in `fs.read` or take minutes and gigabytes); a FIFO
 * named `.gguf` is refused without blocking; node-llama-cpp is never handed such a header.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GGUF_HEADER_LIMITS, listModels, readModelInfo } from '../../electron/models/catalog.js';
import { tempDir } from '../helpers/runtime.js';

const tmp = tempDir('wattwise-crafted-');
after(() => tmp.cleanup());

/** A sparse file of `sizeBytes` whose first bytes are `head`. */
function sparse(name: string, head: Buffer, sizeBytes: number): string {
  const path = join(tmp.dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  truncateSync(path, sizeBytes);
  return path;
}

/** GGUF v3 preamble: magic, version, tensor count, key count. */
function preamble(tensors: bigint, keys: bigint): Buffer {
  const b = Buffer.alloc(24);
  b.write('GGUF', 0, 'latin1');
  b.writeUInt32LE(3, 4);
  b.writeBigUInt64LE(tensors, 8);
  b.writeBigUInt64LE(keys, 16);
  return b;
}

/** A metadata entry: key `name`, string value whose declared length is `valueLength` (the bytes are not written). */
function stringEntry(name: string, valueLength: bigint): Buffer {
  const key = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(8 + key.length + 4 + 8);
  b.writeBigUInt64LE(BigInt(key.length), 0);
  key.copy(b, 8);
  b.writeUInt32LE(8, 8 + key.length); // GGUF_TYPE_STRING
  b.writeBigUInt64LE(valueLength, 12 + key.length);
  return b;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; rssGrowth: number }> {
  const rss0 = process.memoryUsage.rss();
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0, rssGrowth: process.memoryUsage.rss() - rss0 };
}

test('a ≥ 2 GiB sparse file declaring a ~2 GiB string: unusable (header too large), quickly, without buffering it', async () => {
  const path = sparse('huge-string.gguf', Buffer.concat([preamble(0n, 1n), stringEntry('general.name', 2n ** 31n - 100n)]), 2 ** 31 + 4096);
  const { value: info, rssGrowth } = await timed(() => readModelInfo(path));
  assert.equal(info.usable, false);
  assert.match(info.problem ?? '', /header too large/);
  assert.ok(rssGrowth < 256 * 1024 * 1024, `memory grew by ${rssGrowth} bytes`);
});

test('10 million tensors declared: refused at once, by size (240 MB file) or by count (1 GB file)', async () => {
  const small = await timed(() => readModelInfo(sparse('ten-million-tensors.gguf', preamble(10_000_000n, 0n), 240_000_000)));
  assert.equal(small.value.usable, false);
  assert.match(small.value.problem ?? '', /truncated GGUF header/);
  const big = await timed(() => readModelInfo(sparse('ten-million-tensors-1g.gguf', preamble(10_000_000n, 0n), 1_000_000_000)));
  assert.equal(big.value.usable, false);
  assert.match(big.value.problem ?? '', /10000000 tensors; at most 65536/);
});

test('a header that walks past the limit through many small keys is stopped at the limit', async () => {
  // 60,000 keys of 2 KB strings = 120 MB of header: each entry is fine, the total is not.
  const entries: Buffer[] = [preamble(0n, 60_000n)];
  const size = 2 ** 31;
  // Only the first entry is written; the rest of the walk reads zeros (key length 0, type 0 = u8): still bounded.
  entries.push(stringEntry('a', BigInt(GGUF_HEADER_LIMITS.maxHeaderBytes)));
  const path = sparse('long-walk.gguf', Buffer.concat(entries), size);
  const { value: info } = await timed(() => readModelInfo(path));
  assert.equal(info.usable, false);
  assert.match(info.problem ?? '', /header too large|truncated|corrupt/);
});

test('a FIFO named .gguf is refused at once, alone and in a folder listing', async () => {
  const fifo = join(tmp.dir, 'pipe.gguf');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    return; // no mkfifo on this system
  }
  const { value: info, ms } = await timed(() => readModelInfo(fifo));
  assert.equal(info.usable, false);
  assert.match(info.problem ?? '', /not a regular file/);
  assert.ok(ms < 5000);
  // The folder listing finishes and offers no FIFO as a model.
  const listed = await listModels(tmp.dir);
  assert.ok(!listed.some((m) => m.path === fifo && m.usable));
});
