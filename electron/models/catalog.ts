/**
 * The model catalog: which `.gguf` files are in the models folder and what each one is.
 *
 * Everything here reads only file headers (never the weights), never throws for a bad file, and has no
 * Electron imports. A file that cannot be used is listed with `usable: false` and a one-line `problem`
 * that the UI shows as is.
 *
 * How a file is checked, in order:
 * 1. `stat`/`open` errors (missing, permission denied, a directory) and an empty file;
 * 2. {@link inspectGgufLayout}: a bounds-checked walk of the GGUF header (magic, version, metadata,
 *    tensor table). It runs before node-llama-cpp's parser because that parser reads past the end of a
 *    short file as zeros and trusts the declared counts, so a truncated or corrupt header could make it
 *    loop for a very long time or allocate huge buffers;
 * 3. node-llama-cpp's `readGgufFileInfo` + `GgufInsights` for the metadata, the parameter count and the
 *    size of the tensor data, which must fit in the file (a truncated download is caught here rather
 *    than crashing llama.cpp at load time);
 * 4. whether llama.cpp supports the architecture.
 */
import { constants as fsConstants, type Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { GgmlType, GgufFileType, GgufInsights, readGgufFileInfo, type GgufFileInfo } from 'node-llama-cpp';
import type { ModelInfo } from '../../shared/contract.js';
import { statKey, type FactCache } from './fileIdentity.js';

/**
 * Version of what {@link readModelInfo} computes from a header: persistent caches of `ModelInfo`
 * (`FactCache`) are valid only for the same version. Bump it when the reading rules change.
 */
export const CATALOG_READER_VERSION = '3';

/** Options of {@link readModelInfo} and {@link listModels}. */
export interface CatalogReadOptions {
  /** A persistent cache (the store's) consulted after the in-memory one; filled on a miss. */
  cache?: FactCache<ModelInfo> | null;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/**
 * Name of a GGUF `general.file_type` value, as llama.cpp's quantize tool spells it: `ALL_F32` → `F32`,
 * `MOSTLY_Q4_K_M` → `Q4_K_M`, `MOSTLY_IQ4_XS` → `IQ4_XS`. Uses node-llama-cpp's `GgufFileType` enum
 * (mirror of llama.cpp's `llama_ftype`). Returns `null` for `undefined`/`null`, and `type N` for a value
 * the enum does not know (a file newer than node-llama-cpp).
 */
export function formatQuantization(fileType: number | null | undefined): string | null {
  if (fileType == null || !Number.isInteger(fileType)) return null;
  // llama.cpp ORs LLAMA_FTYPE_GUESSED (1024) into ftypes it inferred; never written to files, but harmless.
  const name = (GgufFileType as unknown as Record<number, string | undefined>)[fileType & ~1024];
  if (name == null) return `type ${fileType}`;
  return name.replace(/^(MOSTLY|ALL)_/, '');
}

/**
 * Name of a ggml tensor type (`GgmlType` enum: `F32`, `F16`, `Q8_0`, `Q4_K`...), or `type N` when unknown.
 */
export function formatGgmlType(type: number): string {
  return (GgmlType as unknown as Record<number, string | undefined>)[type] ?? `type ${type}`;
}

/** Bytes as GiB for messages; the one rule in `shared/format.ts`, re-exported for the engine's messages. */
export { formatGiB } from '../../shared/format.js';

/**
 * `-00001-of-00003.gguf` style split models (llama.cpp's `gguf-split` naming). Group 1: the part number,
 * group 2: the part count.
 */
const splitPartPattern = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** Paths of every part of a split model given any part's path; `[path]` for a single-file model. */
export function splitModelParts(filePath: string): string[] {
  const m = splitPartPattern.exec(filePath);
  if (m == null) return [filePath];
  const count = Number(m[2]);
  if (count < 1) return [filePath];
  const prefix = filePath.slice(0, m.index);
  const ext = filePath.slice(filePath.length - 5); // keep the file's own case of ".gguf"
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}-of-${m[2]}${ext}`);
}

/** True for a file name that ends in `.gguf` (any case). */
export function isGgufFileName(name: string): boolean {
  return /\.gguf$/i.test(name);
}

/** True when the file is a later part (2..N) of a split model: those are listed through their first part. */
function isLaterSplitPart(name: string): boolean {
  const m = splitPartPattern.exec(name);
  return m != null && Number(m[1]) !== 1;
}

// ---------------------------------------------------------------------------------------------
// Bounds-checked GGUF header walk
// ---------------------------------------------------------------------------------------------

/** A file that cannot be used: `message` is the one-line `problem` shown to the user. */
class UnusableModelError extends Error {}

/** What {@link inspectGgufLayout} learned about one GGUF file. */
export interface GgufLayout {
  /** GGUF format version (2 or 3). */
  version: number;
  /** Offset of the tensor data: header + metadata + tensor table + padding, in bytes. */
  dataOffset: number;
  /** The tensor table: ggml type and offset (relative to `dataOffset`, in bytes) of each tensor. */
  tensors: { ggmlType: number; offset: number }[];
}

/** Sizes in bytes of the fixed-size GGUF value types (GGUF spec, `gguf_type`), by type id. */
const ggufScalarSizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const GGUF_TYPE_STRING = 8;
const GGUF_TYPE_ARRAY = 9;
/** GGML_MAX_DIMS in ggml.h. */
const GGML_MAX_DIMS = 4;
/** GGUF_DEFAULT_ALIGNMENT in gguf.h: used when `general.alignment` is absent. */
const GGUF_DEFAULT_ALIGNMENT = 32;

/**
 * Bounds of the header walk, so a crafted file can cost neither much memory nor much time (a header that
 * declared a 2 GiB string or 10 million tensors used to take minutes and gigabytes, or abort the process).
 * Real files are far inside them: the largest headers are the big-vocabulary ones (Gemma's 256k tokens with
 * scores and types: ≈ 6 MiB; 152k tokens + 151k merges for Qwen: ≈ 8 MiB), and the most tensors are a few
 * thousand (a 671B MoE with merged experts: ≈ 1,000–2,000).
 */
export const GGUF_HEADER_LIMITS = {
  /** Header (metadata + tensor table) size, bytes: 64 MiB. */
  maxHeaderBytes: 64 * 1024 * 1024,
  /** Metadata entries. */
  maxKeys: 65_536,
  /** Tensors. */
  maxTensors: 65_536,
  /** Length of a key or a tensor name, bytes (llama.cpp's GGML_MAX_NAME is 64; keys are short). */
  maxNameBytes: 65_536,
  /** Bytes read from the file at once. */
  chunkBytes: 1024 * 1024,
} as const;

/**
 * A forward-only reader over the first {@link GGUF_HEADER_LIMITS.maxHeaderBytes} of a file, one bounded
 * chunk at a time: values the walk does not need (string contents, arrays) are skipped by moving the
 * position, never buffered, so no read asks for more than `chunkBytes` and memory stays at one chunk.
 */
class HeaderReader {
  private buf = Buffer.alloc(0);
  /** File offset of `buf[0]`. */
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly handle: import('node:fs/promises').FileHandle,
    private readonly fileSize: number,
  ) {}

  /** The header may not reach past the file's end nor past the header limit. */
  private check(end: number): void {
    if (end > this.fileSize) throw new UnusableModelError('truncated GGUF header');
    if (end > GGUF_HEADER_LIMITS.maxHeaderBytes) {
      throw new UnusableModelError(`GGUF header too large (over ${GGUF_HEADER_LIMITS.maxHeaderBytes / 1024 / 1024} MiB): not a file llama.cpp can use`);
    }
  }

  /** `n` bytes at the position (n ≤ chunkBytes), advancing. */
  private async bytes(n: number): Promise<Buffer> {
    const end = this.pos + n;
    this.check(end);
    if (this.pos < this.bufStart || end > this.bufStart + this.buf.length) {
      const want = Math.min(Math.max(n, GGUF_HEADER_LIMITS.chunkBytes), this.fileSize - this.pos);
      const fresh = Buffer.alloc(want);
      const { bytesRead } = await this.handle.read(fresh, 0, want, this.pos);
      this.buf = fresh.subarray(0, bytesRead);
      this.bufStart = this.pos;
      if (bytesRead < n) throw new UnusableModelError('truncated GGUF header');
    }
    const at = this.pos - this.bufStart;
    this.pos = end;
    return this.buf.subarray(at, at + n);
  }

  async u32(): Promise<number> {
    return (await this.bytes(4)).readUInt32LE(0);
  }

  /** A u64 as a number; lengths and counts above 2^53 are lies in any file that fits a disk. */
  async u64(): Promise<number> {
    const v = (await this.bytes(8)).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UnusableModelError('truncated GGUF header');
    return Number(v);
  }

  /** Moves past `n` bytes without reading them (they must still lie inside the file and the header limit). */
  skip(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new UnusableModelError('truncated GGUF header');
    this.check(this.pos + n);
    this.pos += n;
  }

  /** A short string (a key or a tensor name, ≤ maxNameBytes). */
  async name(): Promise<string> {
    const len = await this.u64();
    this.check(this.pos + len);
    if (len > GGUF_HEADER_LIMITS.maxNameBytes) throw new UnusableModelError(`corrupt GGUF header (a ${len}-byte name)`);
    return len === 0 ? '' : (await this.bytes(len)).toString('utf8');
  }
}

/**
 * Walks the GGUF header of an open file without trusting any declared length or count: a bounded,
 * forward-only read ({@link HeaderReader}, {@link GGUF_HEADER_LIMITS}). Throws {@link UnusableModelError}
 * for a malformed, truncated or oversized header.
 */
async function walkGgufHeader(handle: import('node:fs/promises').FileHandle, fileSize: number): Promise<GgufLayout> {
  const r = new HeaderReader(handle, fileSize);
  const skipValue = async (type: number, depth: number): Promise<number | null> => {
    const size = ggufScalarSizes[type];
    if (size != null) {
      if (size === 4 && type === 4) return r.u32();
      r.skip(size);
      return null;
    }
    if (type === GGUF_TYPE_STRING) {
      r.skip(await r.u64());
      return null;
    }
    if (type === GGUF_TYPE_ARRAY) {
      if (depth > 4) throw new UnusableModelError('corrupt GGUF header (arrays nested too deep)');
      const itemType = await r.u32();
      const count = await r.u64();
      const itemSize = ggufScalarSizes[itemType];
      if (itemSize != null) {
        r.skip(count * itemSize);
        return null;
      }
      if (itemType !== GGUF_TYPE_STRING && itemType !== GGUF_TYPE_ARRAY) {
        throw new UnusableModelError(`corrupt GGUF header (unknown value type ${itemType})`);
      }
      // Each string or array takes at least 8 bytes: a count larger than what is left is a lie.
      r.skip(0);
      if (count * 8 > Math.min(fileSize, GGUF_HEADER_LIMITS.maxHeaderBytes) - r.pos) throw new UnusableModelError('truncated GGUF header');
      for (let i = 0; i < count; i++) await skipValue(itemType, depth + 1);
      return null;
    }
    throw new UnusableModelError(`corrupt GGUF header (unknown value type ${type})`);
  };

  if (fileSize < 4) {
    const head = Buffer.alloc(fileSize);
    await handle.read(head, 0, fileSize, 0);
    if (!Buffer.from('GGUF').subarray(0, fileSize).equals(head)) throw new UnusableModelError('not a GGUF file (bad magic)');
    throw new UnusableModelError('truncated GGUF header');
  }
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, 0);
  if (!magic.equals(Buffer.from('GGUF'))) throw new UnusableModelError('not a GGUF file (bad magic)');
  r.skip(4);
  const version = await r.u32();
  if (version !== 2 && version !== 3) {
    if (version === 1) throw new UnusableModelError('unsupported GGUF version 1 (llama.cpp reads versions 2 and 3)');
    const swapped = ((version & 0xff) << 24) | ((version >>> 8) & 0xff) << 16 | ((version >>> 16) & 0xff) << 8 | (version >>> 24);
    if (swapped === 2 || swapped === 3) throw new UnusableModelError('unsupported GGUF file (big-endian byte order)');
    throw new UnusableModelError(`unsupported GGUF version ${version}`);
  }
  const tensorCount = await r.u64();
  const kvCount = await r.u64();
  // Minimum sizes: a metadata entry is ≥ 13 bytes (key length, type, 1-byte value), a tensor entry ≥ 24.
  if (kvCount * 13 + tensorCount * 24 > fileSize - r.pos) throw new UnusableModelError('truncated GGUF header');
  if (tensorCount > GGUF_HEADER_LIMITS.maxTensors) throw new UnusableModelError(`corrupt GGUF header (${tensorCount} tensors; at most ${GGUF_HEADER_LIMITS.maxTensors})`);
  if (kvCount > GGUF_HEADER_LIMITS.maxKeys) throw new UnusableModelError(`corrupt GGUF header (${kvCount} metadata keys; at most ${GGUF_HEADER_LIMITS.maxKeys})`);

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (let i = 0; i < kvCount; i++) {
    const key = await r.name();
    const type = await r.u32();
    const value = await skipValue(type, 0);
    if (key === 'general.alignment' && value != null) alignment = value;
  }
  if (alignment === 0 || alignment % 8 !== 0) throw new UnusableModelError(`corrupt GGUF header (alignment ${alignment})`);

  const tensors: GgufLayout['tensors'] = [];
  for (let i = 0; i < tensorCount; i++) {
    await r.name();
    const dims = await r.u32();
    if (dims > GGML_MAX_DIMS) throw new UnusableModelError(`corrupt GGUF header (tensor with ${dims} dimensions)`);
    for (let d = 0; d < dims; d++) await r.u64();
    const ggmlType = await r.u32();
    const offset = await r.u64();
    tensors.push({ ggmlType, offset });
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  return { version, dataOffset, tensors };
}

/**
 * Reads and checks the GGUF header of `filePath` (bounded: no declared length or count is trusted, at most
 * {@link GGUF_HEADER_LIMITS.maxHeaderBytes} are read, one chunk at a time). Only regular files are opened
 * (a FIFO or a device would block the read). Throws an `Error` whose message is a one-line problem:
 * `not a GGUF file (bad magic)`, `truncated GGUF header`, `file is empty`, `unsupported GGUF version N`,
 * `corrupt GGUF header (...)`, `GGUF header too large (...)`, `not a regular file`, or a file-system error.
 */
export async function inspectGgufLayout(filePath: string): Promise<GgufLayout> {
  const st = await stat(filePath);
  if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  if (!st.isFile()) throw new UnusableModelError('not a regular file (a pipe, socket or device cannot be a model)');
  // O_NONBLOCK: should the path be swapped for a FIFO after the stat, the open does not wait for a writer.
  const handle = await open(filePath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const hst = await handle.stat();
    if (!hst.isFile()) throw new UnusableModelError('not a regular file (a pipe, socket or device cannot be a model)');
    const fileSize = hst.size;
    if (fileSize === 0) throw new UnusableModelError('file is empty');
    return await walkGgufHeader(handle, fileSize);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// readModelInfo / listModels
// ---------------------------------------------------------------------------------------------

/** One-line text for a file-system error code. */
function describeFsError(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT': return 'file not found';
    case 'EACCES':
    case 'EPERM': return 'cannot read the file (permission denied)';
    case 'EISDIR': return 'is a folder, not a file';
    case 'ELOOP': return 'broken symbolic link (loop)';
    case 'EIO': return 'cannot read the file (I/O error)';
    default: return code != null ? `cannot read the file (${code})` : null;
  }
}

/** The first line of an error's message, trimmed to 200 characters. */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n')[0] ?? '').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line || 'unknown error';
}

/**
 * Quantization from the tensor types, for files without `general.file_type`: the ggml type holding
 * the most bytes of tensor data (e.g. a file of F32 tensors → `F32`). Each tensor's size is the distance
 * to the next tensor's offset (the last one runs to `dataSize`), so no type-size table is needed.
 */
export function dominantTensorTypeByBytes(tensors: GgufLayout['tensors'], dataSize: number): string | null {
  if (tensors.length === 0) return null;
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  const bytesByType = new Map<number, number>();
  sorted.forEach((t, i) => {
    const end = sorted[i + 1]?.offset ?? Math.max(dataSize, t.offset);
    bytesByType.set(t.ggmlType, (bytesByType.get(t.ggmlType) ?? 0) + (end - t.offset));
  });
  let best: [number, number] | null = null;
  for (const entry of bytesByType) if (best == null || entry[1] > best[1]) best = entry;
  return best == null ? null : formatGgmlType(best[0]);
}

/**
 * The family key of a model: variants of the same base model (other sizes, other quantizations) share it.
 * `general.basename` (+ `general.finetune`), as llama.cpp's converter writes them (GGUF naming convention,
 * ggml docs/gguf.md "GGUF Naming Convention"), else the file name stripped of its size label
 * (`1.5B`, `260K`, `8x7B`), quantization (`Q4_K_M`, `F16`, `IQ4_XS`...) and split suffix. Lower-cased.
 */
export function modelFamily(input: { basename: string | null; finetune: string | null; fileName: string; architecture: string | null }): string {
  if (input.basename) return [input.basename, input.finetune].filter(Boolean).join('-').toLowerCase();
  const stem = input.fileName
    .replace(/\.gguf$/i, '')
    .replace(/-\d{5}-of-\d{5}$/i, '')
    .replace(/[-_.](?:I?Q\d(?:_[A-Z0-9]+)*|F16|F32|BF16|MXFP4)(?=$|[-_.])/gi, '')
    .replace(/[-_.]?\d+(?:\.\d+)?(?:x\d+(?:\.\d+)?)?[KMBT](?=$|[-_.])/gi, '')
    .replace(/[-_.]+$/, '');
  return (stem || input.architecture || input.fileName).toLowerCase();
}

/**
 * F16 KV cache bytes per context token from `<arch>.*` metadata: 2 (K and V) × `block_count` ×
 * (`attention.head_count_kv` × `attention.key_length`, else `embedding_length` ÷ `head_count` × `head_count_kv`)
 * × 2 bytes (llama.cpp's default `type_k`/`type_v` = F16). Null when a field is missing or not a number.
 */
export function kvCacheBytesPerToken(arch: Record<string, unknown> | undefined): number | null {
  if (!arch) return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
  const attention = (arch.attention ?? {}) as Record<string, unknown>;
  const layers = num(arch.block_count);
  const embd = num(arch.embedding_length);
  const heads = num(attention.head_count);
  const kvHeads = num(attention.head_count_kv) ?? heads;
  if (layers === null || kvHeads === null) return null;
  const keyLength = num(attention.key_length) ?? (embd !== null && heads !== null ? embd / heads : null);
  const valueLength = num(attention.value_length) ?? keyLength;
  if (keyLength === null || valueLength === null) return null;
  return layers * kvHeads * (keyLength + valueLength) * 2;
}

/**
 * Reads what the catalog shows about one `.gguf` file from its header. Never throws: a file that cannot
 * be used comes back with `usable: false` and a one-line `problem`, for example
 * `not a GGUF file (bad magic)`, `truncated GGUF header`, `file is empty`, `unsupported GGUF version 1 ...`,
 * `cannot read the file (permission denied)`, `truncated: header declares N bytes of tensor data, file has M`,
 * `unsupported architecture "clip"`.
 *
 * For a split model (`name-00001-of-00003.gguf`), pass the first part: `sizeBytes` is the total of all
 * parts, the parameter count covers all parts, and a missing part makes it unusable.
 *
 * Loads node-llama-cpp's native binding (without a compute backend) the first time, for tensor sizes.
 *
 * Cached: in memory per path while the file's parts keep their stat keys (device, inode, size, mtime),
 * and in `options.cache` (the store's) across restarts, for {@link CATALOG_READER_VERSION}.
 */
export async function readModelInfo(filePath: string, options: CatalogReadOptions = {}): Promise<ModelInfo> {
  const path = resolve(filePath);
  const key = await partsStatKey(path);
  const hit = key === null ? undefined : infoCache.get(path);
  if (hit && hit.key === key) return structuredClone(hit.info);
  const stored = key === null ? null : (options.cache?.get(path, key) ?? null);
  const info = stored ?? (await readModelInfoUncached(path));
  if (key !== null) {
    if (infoCache.size >= INFO_CACHE_LIMIT) infoCache.clear();
    infoCache.set(path, { key, info: structuredClone(info) });
    if (!stored) options.cache?.set(path, key, info);
  }
  return info;
}

/**
 * What {@link readModelInfo} read, per path, with the {@link statKey}s of the file's parts when read: a
 * file's header is parsed again only when one of its parts changed (size, mtime, inode or device). A
 * header of a 150k-token vocabulary takes node-llama-cpp 0.2–0.6 s to parse, so a library of 15 models
 * would cost seconds on every governor decision otherwise.
 */
const infoCache = new Map<string, { key: string; info: ModelInfo }>();
/** Entries kept at most before the cache starts over. */
const INFO_CACHE_LIMIT = 2000;

/** Empties the in-memory cache of {@link readModelInfo} (tests of the persistent cache; a process restart does the same). */
export function forgetCachedModelInfo(): void {
  infoCache.clear();
}

/** The stat keys of every part of the model at `path`, joined; null when the first part cannot be stat'ed. */
async function partsStatKey(path: string): Promise<string | null> {
  const keys: string[] = [];
  for (const [i, part] of splitModelParts(path).entries()) {
    try {
      keys.push(statKey(await stat(part)));
    } catch {
      if (i === 0) return null;
      keys.push('missing');
    }
  }
  return keys.join('|');
}

async function readModelInfoUncached(path: string): Promise<ModelInfo> {
  const fileName = basename(path);
  const info: ModelInfo = {
    path,
    fileName,
    name: fileName.replace(/\.gguf$/i, ''),
    sizeBytes: 0,
    usable: false,
    problem: null,
    architecture: null,
    parameterCount: null,
    quantization: null,
    trainContextSize: null,
    hasChatTemplate: false,
    family: null,
    sizeLabel: null,
    basename: null,
    source: 'models-folder',
    appName: null,
    kvCacheBytesPerToken: null,
  };
  try {
    const parts = splitModelParts(path);
    for (const [i, part] of parts.entries()) {
      try {
        const st = await stat(part);
        if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
        info.sizeBytes += st.size;
      } catch (err) {
        if (i > 0 && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new UnusableModelError(`missing part ${i + 1} of ${parts.length} (${basename(part)})`);
        }
        throw err;
      }
    }
    const layouts: GgufLayout[] = [];
    for (const part of parts) layouts.push(await inspectGgufLayout(part));

    const fileInfo: GgufFileInfo = await readGgufFileInfo(path, {
      sourceType: 'filesystem',
      logWarnings: false,
      spliceSplitFiles: parts.length > 1,
    });
    const metadata = fileInfo.metadata;
    const general = metadata?.general;
    const generalName = typeof general?.name === 'string' ? general.name.trim() : '';
    info.architecture = typeof general?.architecture === 'string' ? general.architecture : null;
    // Converters often write just the architecture ("llama") as the name: the file name says more then.
    if (generalName !== '' && generalName.toLowerCase() !== info.architecture?.toLowerCase()) info.name = generalName;
    const trainContext = fileInfo.architectureMetadata?.context_length;
    info.trainContextSize = typeof trainContext === 'number' && Number.isSafeInteger(trainContext) && trainContext >= 0 ? trainContext : null;
    const template = metadata?.tokenizer?.chat_template;
    info.hasChatTemplate = typeof template === 'string' && template.trim() !== '';
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
    const g = general as Record<string, unknown> | undefined;
    info.sizeLabel = text(g?.size_label);
    info.basename = text(g?.basename);
    info.kvCacheBytesPerToken = kvCacheBytesPerToken(fileInfo.architectureMetadata as Record<string, unknown> | undefined);
    info.family = modelFamily({ basename: text(g?.basename), finetune: text(g?.finetune), fileName, architecture: info.architecture });

    const insights = await GgufInsights.from(fileInfo);
    info.parameterCount = insights.totalParameters;
    const dataSize = insights.modelSize;
    const headerBytes = layouts.reduce((sum, l) => sum + l.dataOffset, 0);
    info.quantization =
      formatQuantization(typeof general?.file_type === 'number' ? general.file_type : null) ??
      dominantTensorTypeByBytes(layouts[0]?.tensors ?? [], dataSize);

    if (info.sizeBytes < headerBytes + dataSize) {
      const has = Math.max(0, info.sizeBytes - headerBytes);
      throw new UnusableModelError(`truncated: header declares ${dataSize} bytes of tensor data, file has ${has}`);
    }
    if (info.architecture == null) throw new UnusableModelError('no general.architecture in the GGUF header');
    if (!insights.isSupportedByLlamaCpp) throw new UnusableModelError(`unsupported architecture "${info.architecture}"`);
    info.usable = true;
  } catch (err) {
    info.usable = false;
    info.problem = err instanceof UnusableModelError ? err.message : (describeFsError(err) ?? oneLine(err));
  }
  return info;
}

/** How many files {@link listModels} reads at once. */
const LIST_CONCURRENCY = 4;

/**
 * Every model in `modelsDir`, sorted by display name (then path): each `*.gguf` file (any case) in the
 * folder itself, in its subfolders, and in theirs (two levels, for LM Studio's `publisher/model/file.gguf`
 * layout; nothing deeper is searched). Symbolic links to
 * files and folders are followed. Skipped: files not ending in `.gguf`, hidden files (`.name`, including
 * macOS `._name.gguf` resource forks), and parts 2..N of split models (`-00002-of-00003.gguf`: the model
 * is listed once, through its first part). A missing or unreadable folder gives `[]`. Never throws.
 */
export async function listModels(modelsDir: string, options: CatalogReadOptions = {}): Promise<ModelInfo[]> {
  const root = resolve(modelsDir);
  const files: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = await stat(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          // A dangling link named *.gguf is still listed, so the user sees why it does not work.
          isFile = true;
        }
      }
      if (isDir && depth < 2) await walk(full, depth + 1);
      else if (isFile && isGgufFileName(entry.name) && !isLaterSplitPart(entry.name)) files.push(full);
    }
  };
  await walk(root, 0);

  const out: ModelInfo[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      out[i] = await readModelInfo(files[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, files.length) }, worker));
  return out.sort(
    (a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base', numeric: true }) || a.path.localeCompare(b.path),
  );
}
