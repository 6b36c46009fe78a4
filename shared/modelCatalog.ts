/**
 * The curated catalog of downloadable models (resources/catalog/models.json): its schema, shared by the
 * backend (which validates the file it ships) and the renderer (which shows the entries).
 *
 * Runtime-neutral: no Node, DOM or Electron imports.
 */
import { z } from 'zod';

/** A quantization name as llama.cpp writes it (`Q4_K_M`, `Q8_0`, `F16`, `IQ4_XS`...). */
const quantization = z.string().regex(/^[A-Z0-9_]+$/);

/** The published score an entry's quality rests on (the governor's table, electron/governor/publishedScoreRows.ts). */
export const catalogPublishedScoreSchema = z.object({
  /** MMLU accuracy, percent. */
  mmlu: z.number().min(0).max(100),
  /** Benchmark and protocol, e.g. `MMLU 5-shot (base model)`. */
  benchmark: z.string().min(1),
  /** Where it was published. */
  source: z.string().min(1),
});

/** One downloadable GGUF file. */
export const catalogEntrySchema = z.object({
  /** Stable id, lower case: the file name without `.gguf`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).max(120),
  /** Display name, e.g. `Qwen2.5 1.5B Instruct`. */
  name: z.string().min(1).max(120),
  /** `general.basename` of the file and its size label, to match published scores like an installed file. */
  basename: z.string().min(1),
  sizeLabel: z.string().min(1),
  /** Hugging Face repository `<org>/<repo>` and the file's path in it. */
  repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/),
  file: z.string().regex(/^[^/\\]+\.gguf$/i),
  /** Exact size of the file, bytes (the Hub's LFS size). */
  sizeBytes: z.number().int().positive(),
  /** Lower-case hex SHA-256 of the file (the Hub's LFS oid). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  quantization,
  /** Total parameters, as published. */
  parameterCount: z.number().int().positive(),
  /** `general.architecture`. */
  architecture: z.string().min(1),
  /** Training context, tokens. */
  contextLength: z.number().int().positive(),
  /** The attention shape, for the KV cache: bytes per context token = 2 × layers × kvHeads × headDim × 2 (F16). */
  kv: z.object({ layers: z.number().int().positive(), kvHeads: z.number().int().positive(), headDim: z.number().int().positive() }),
  /** License id (SPDX or the vendor's license name). */
  license: z.string().min(1),
  /** The published score the governor's quality rests on; null when the family publishes none comparable. */
  published: catalogPublishedScoreSchema.nullable(),
  /** Where `sizeBytes` and `sha256` were read. */
  sources: z.array(z.string().min(1)).min(1),
});
/** One downloadable GGUF file. */
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

/** The catalog file. */
export const catalogSchema = z.object({
  $comment: z.string().optional(),
  version: z.literal(1),
  entries: z.array(catalogEntrySchema).min(1),
});
/** The catalog file. */
export type ModelCatalog = z.infer<typeof catalogSchema>;

/** The `hf:` URI that downloads an entry: `hf:<org>/<repo>/<file>`. */
export function catalogEntryUri(entry: Pick<CatalogEntry, 'repo' | 'file'>): string {
  return `hf:${entry.repo}/${entry.file}`;
}

/** F16 KV cache bytes per context token of an entry: 2 (K and V) × layers × KV heads × head size × 2 bytes. */
export function catalogKvBytesPerToken(entry: Pick<CatalogEntry, 'kv'>): number {
  return 2 * entry.kv.layers * entry.kv.kvHeads * entry.kv.headDim * 2;
}
