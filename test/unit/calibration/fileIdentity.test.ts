/** A model file's identity across renames and copies: size + hash of its first and last MiB. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, openSync, closeSync, writeSync, renameSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileFingerprint, FINGERPRINT_EDGE_BYTES } from '../../../electron/models/fileIdentity.js';
import { tempDir } from '../../helpers/runtime.js';

const tmp = tempDir('wattwise-identity-');
after(() => tmp.cleanup());

test('a renamed or copied file has the same key; other content or size does not', async () => {
  const a = join(tmp.dir, 'a.gguf');
  writeFileSync(a, randomBytes(3 * FINGERPRINT_EDGE_BYTES));
  const key = await fileFingerprint(a);
  assert.match(key, /^3145728:[0-9a-f]{32}$/);
  const copy = join(tmp.dir, 'copy.gguf');
  copyFileSync(a, copy);
  assert.equal(await fileFingerprint(copy), key);
  const renamed = join(tmp.dir, 'renamed.gguf');
  renameSync(copy, renamed);
  assert.equal(await fileFingerprint(renamed), key);

  // A byte changed at the very end (the last weights) → another key, found even though the size is the same.
  const fd = openSync(renamed, 'r+');
  writeSync(fd, Buffer.from([0xff ^ 0x5a]), 0, 1, 3 * FINGERPRINT_EDGE_BYTES - 1);
  closeSync(fd);
  utimesSync(renamed, new Date(), new Date(Date.now() + 2000));
  assert.notEqual(await fileFingerprint(renamed), key);

  // Another size → another key.
  const longer = join(tmp.dir, 'longer.gguf');
  copyFileSync(a, longer);
  writeFileSync(longer, Buffer.alloc(1), { flag: 'a' });
  assert.notEqual(await fileFingerprint(longer), key);
});

test('a small file is hashed whole; an edit in place is seen (the cache follows mtime and size)', async () => {
  const f = join(tmp.dir, 'small.gguf');
  writeFileSync(f, 'GGUF small');
  const first = await fileFingerprint(f);
  writeFileSync(f, 'GGUF smalL');
  utimesSync(f, new Date(), new Date(Date.now() + 5000));
  assert.notEqual(await fileFingerprint(f), first);
});

test('not a regular file, or missing: an error, never a hang', async () => {
  await assert.rejects(fileFingerprint(join(tmp.dir, 'missing.gguf')), /ENOENT/);
  await assert.rejects(fileFingerprint(tmp.dir), /not a regular file/);
  const fifo = join(tmp.dir, 'pipe.gguf');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    return; // no mkfifo here
  }
  await assert.rejects(fileFingerprint(fifo), /not a regular file/);
});
