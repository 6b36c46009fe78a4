/**
 * The identity of a model file across renames and copies: its size plus a SHA-256 of its first and last
 * MiB. The first MiB holds the GGUF header (metadata, tokenizer start, tensor table: name, shape, type and
 * offset of every tensor), the last MiB the end of the weights, so two files share a key only when they
 * have the same size, the same header start and the same final weights: a renamed or copied file keeps
 * its measurements, a re-quantized or re-downloaded different file does not. Reading 2 MiB costs a few
 * ms; results are cached per (path, device, inode, size, mtime), so an unchanged library costs one
 * `stat` per file.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** Bytes hashed at each end of the file: 1 MiB. */
export const FINGERPRINT_EDGE_BYTES = 1024 * 1024;

/**
 * A persistent cache of one kind of fact about model files (the store implements it: `store.modelFacts`),
 * valid while the file's {@link statKey} is the same. Implementations never throw.
 */
export interface FactCache<T> {
  /** The stored value for `path` when it was stored with `statKey`, else null. */
  get(path: string, statKey: string): T | null;
  /** Stores `value` for `path` at `statKey`. */
  set(path: string, statKey: string, value: T): void;
}

/** What a file's `stat` says about whether it changed: device, inode, size and modification time. */
export function statKey(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${Math.trunc(st.mtimeMs)}`;
}

const cache = new Map<string, { statKey: string; fileKey: string }>();
/** Cache entries kept at most (a few hundred models at most in any library). */
const CACHE_LIMIT = 2000;

/**
 * The file's key, `<size>:<32 hex digits>` (the first 128 bits of SHA-256 over the first and the last
 * {@link FINGERPRINT_EDGE_BYTES}; the whole file when it is smaller than twice that).
 * @throws the file system's error (ENOENT, EACCES, EISDIR...) or Error for something that is not a
 *   regular file (a FIFO or device would block the read).
 */
export async function fileFingerprint(filePath: string): Promise<string> {
  const st = await stat(filePath);
  if (!st.isFile()) throw new Error(`${filePath} is not a regular file`);
  const key = statKey(st);
  const hit = cache.get(filePath);
  if (hit && hit.statKey === key) return hit.fileKey;
  const handle = await open(filePath, fsConstants.O_RDONLY);
  try {
    const size = (await handle.stat()).size;
    const hash = createHash('sha256');
    const head = Math.min(size, FINGERPRINT_EDGE_BYTES);
    const buf = Buffer.alloc(head);
    const first = await handle.read(buf, 0, head, 0);
    hash.update(buf.subarray(0, first.bytesRead));
    const tailStart = Math.max(head, size - FINGERPRINT_EDGE_BYTES);
    if (tailStart < size) {
      const tail = Buffer.alloc(size - tailStart);
      const last = await handle.read(tail, 0, tail.length, tailStart);
      hash.update(tail.subarray(0, last.bytesRead));
    }
    const fileKey = `${size}:${hash.digest('hex').slice(0, 32)}`;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(filePath, { statKey: key, fileKey });
    return fileKey;
  } finally {
    await handle.close();
  }
}
