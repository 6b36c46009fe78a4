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
export const CATALOG_READER_VERSION = '2';

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

/** Bytes as GiB for messages: `3.2 GiB` (one decimal from 1 GiB), `0.0049 GiB` (two significant digits below). */
export function formatGiB(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (gib >= 100) return `${gib.toFixed(0)} GiB`;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  if (gib === 0) return '0 GiB';
  return `${gib.toPrecision(2)} GiB`;
}

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

/** Internal: the walk needs more bytes of the file than are buffered so far. */
class NeedMoreBytes extends Error {}

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
 * Walks the GGUF header in `buf` (the first `buf.length` bytes of a `fileSize`-byte file) without trusting
 * any declared length. Throws {@link NeedMoreBytes} when `buf` is shorter than the file and more is
 * needed, {@link UnusableModelError} for a malformed or truncated header.
 */
function walkGgufHeader(buf: Buffer, fileSize: number): GgufLayout {
  let pos = 0;
  const take = (n: number | bigint): number => {
    const len = Number(n);
    if (!Number.isSafeInteger(len) || pos + len > fileSize) throw new UnusableModelError('truncated GGUF header');
    if (pos + len > buf.length) throw new NeedMoreBytes();
    const at = pos;
    pos += len;
    return at;
  };
  const u32 = () => buf.readUInt32LE(take(4));
  const u64 = () => buf.readBigUInt64LE(take(8));
  const str = () => {
    const len = u64();
    const at = take(len);
    return buf.toString('utf8', at, at + Number(len));
  };
  /** Skips one value of `type`; returns it when it is a small scalar the caller may want. */
  const skipValue = (type: number, depth: number): number | null => {
    const size = ggufScalarSizes[type];
    if (size != null) {
      const at = take(size);
      return size === 4 && type === 4 ? buf.readUInt32LE(at) : null;
    }
    if (type === GGUF_TYPE_STRING) {
      take(u64());
      return null;
    }
    if (type === GGUF_TYPE_ARRAY) {
      if (depth > 4) throw new UnusableModelError('corrupt GGUF header (arrays nested too deep)');
      const itemType = u32();
      const count = u64();
      const itemSize = ggufScalarSizes[itemType];
      if (itemSize != null) {
        take(count * BigInt(itemSize));
        return null;
      }
      if (itemType !== GGUF_TYPE_STRING && itemType !== GGUF_TYPE_ARRAY) {
        throw new UnusableModelError(`corrupt GGUF header (unknown value type ${itemType})`);
      }
      // Each string or array takes at least 8 bytes: a count larger than the rest of the file is a lie.
      if (count * 8n > BigInt(fileSize - pos)) throw new UnusableModelError('truncated GGUF header');
      for (let i = 0n; i < count; i++) skipValue(itemType, depth + 1);
      return null;
    }
    throw new UnusableModelError(`corrupt GGUF header (unknown value type ${type})`);
  };

  const magicAt = take(Math.min(4, fileSize));
  const magic = buf.subarray(magicAt, magicAt + 4);
  if (!Buffer.from('GGUF').subarray(0, magic.length).equals(magic)) {
    throw new UnusableModelError('not a GGUF file (bad magic)');
  }
  if (magic.length < 4) throw new UnusableModelError('truncated GGUF header');
  const version = u32();
  if (version !== 2 && version !== 3) {
    if (version === 1) throw new UnusableModelError('unsupported GGUF version 1 (llama.cpp reads versions 2 and 3)');
    const swapped = ((version & 0xff) << 24) | ((version >>> 8) & 0xff) << 16 | ((version >>> 16) & 0xff) << 8 | (version >>> 24);
    if (swapped === 2 || swapped === 3) throw new UnusableModelError('unsupported GGUF file (big-endian byte order)');
    throw new UnusableModelError(`unsupported GGUF version ${version}`);
  }
  const tensorCount = u64();
  const kvCount = u64();
  // Minimum sizes: a metadata entry is ≥ 13 bytes (key length, type, 1-byte value), a tensor entry ≥ 24.
  if (kvCount * 13n + tensorCount * 24n > BigInt(fileSize - pos)) throw new UnusableModelError('truncated GGUF header');

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (let i = 0n; i < kvCount; i++) {
    const key = str();
    const type = u32();
    const value = skipValue(type, 0);
    if (key === 'general.alignment' && value != null) alignment = value;
  }
  if (alignment === 0 || alignment % 8 !== 0) throw new UnusableModelError(`corrupt GGUF header (alignment ${alignment})`);

  const tensors: GgufLayout['tensors'] = [];
  for (let i = 0n; i < tensorCount; i++) {
    take(u64()); // name
    const dims = u32();
    if (dims > GGML_MAX_DIMS) throw new UnusableModelError(`corrupt GGUF header (tensor with ${dims} dimensions)`);
    for (let d = 0; d < dims; d++) u64();
    const ggmlType = u32();
    const offset = Number(u64());
    tensors.push({ ggmlType, offset });
  }
  const dataOffset = Math.ceil(pos / alignment) * alignment;
  return { version, dataOffset, tensors };
}

/**
 * Reads and checks the GGUF header of `filePath` (bounds-checked: no declared length is trusted). Reads
 * the file in growing chunks, so only about the header is read. Throws an `Error` whose message is a
 * one-line problem: `not a GGUF file (bad magic)`, `truncated GGUF header`, `file is empty`,
 * `unsupported GGUF version N`, `corrupt GGUF header (...)`, or a file-system error.
 */
export async function inspectGgufLayout(filePath: string): Promise<GgufLayout> {
  const handle = await open(filePath, fsConstants.O_RDONLY);
  try {
    const fileSize = (await handle.stat()).size;
    if (fileSize === 0) throw new UnusableModelError('file is empty');
    let want = Math.min(fileSize, 256 * 1024);
    for (;;) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buf, 0, want, 0);
      try {
        return walkGgufHeader(buf.subarray(0, bytesRead), bytesRead < want ? bytesRead : fileSize);
      } catch (err) {
        if (!(err instanceof NeedMoreBytes) || want >= fileSize) throw err;
        want = Math.min(fileSize, want * 4);
      }
    }
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
