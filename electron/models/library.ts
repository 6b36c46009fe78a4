/**
 * The installed models: Wattwise's own models folder plus the GGUFs other apps downloaded (LM Studio,
 * Ollama, the Hugging Face cache, GPT4All, Jan; ./discovery.ts), read in place. Each comes back as the
 * catalog's `ModelInfo` with its `source` and the other app's name for it. Never throws.
 */
import { realpath } from 'node:fs/promises';
import type { ExternalModelSource, ModelInfo } from '../../shared/contract.js';
import { listModels, readModelInfo, type CatalogReadOptions } from './catalog.js';
import { discoverModelFiles, type DiscoveryOptions } from './discovery.js';

/** Options of {@link listInstalledModels}. */
export interface InstalledModelsOptions extends CatalogReadOptions {
  /** Wattwise's own models folder. */
  modelsDir: string;
  /** Which other apps' folders are read (Settings `modelSources`); all when absent. */
  sources?: Partial<Record<ExternalModelSource, boolean>>;
  /** Discovery options (tests pass a fixture home); `false` reads no other app's folder. */
  discovery?: DiscoveryOptions | false;
}

/**
 * Every installed model: the models folder's files (source `models-folder`) and then the other apps'
 * (their source and name), sorted by display name then path. A file another app keeps that is the same
 * file as one in the models folder (a symlink into it, or the reverse) is listed once, as the models
 * folder's. A discovered entry with a problem (broken link, bad Ollama manifest) is listed unusable with
 * that problem.
 */
export async function listInstalledModels(options: InstalledModelsOptions): Promise<ModelInfo[]> {
  const own = await listModels(options.modelsDir, options);
  if (options.discovery === false) return own;
  const disabled = (Object.entries(options.sources ?? {}) as Array<[ExternalModelSource, boolean]>).filter(([, on]) => !on).map(([s]) => s);
  let found;
  try {
    found = await discoverModelFiles({ ...(options.discovery ?? {}), disabled });
  } catch {
    return own;
  }
  const seen = new Set<string>();
  for (const m of own) seen.add(await realpathOr(m.path));
  const out = [...own];
  for (const f of found) {
    const real = await realpathOr(f.path);
    if (seen.has(real)) continue;
    seen.add(real);
    const info: ModelInfo = f.problem
      ? { ...(await readModelInfo(f.path, options)), usable: false, problem: f.problem }
      : await readModelInfo(f.path, options);
    info.source = f.source;
    info.appName = f.appName;
    // Ollama blobs are named by their hash: the app's name says more.
    if (f.source === 'ollama' && f.appName && /^sha256[-:]/.test(info.name)) info.name = f.appName;
    out.push(info);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base', numeric: true }) || a.path.localeCompare(b.path));
}

async function realpathOr(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}
