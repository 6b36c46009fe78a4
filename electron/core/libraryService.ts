/**
 * The model library as a service: the installed models' folders and disk, the catalog as offered on this
 * machine (predicted cost and quality before download), the recommended ladder, downloads (one at a time,
 * resumable after a restart, verified) and deleting models from Wattwise's own folder.
 *
 * No Electron imports: the CLI and the browser mode use it too.
 */
import { lstat, readdir, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { CatalogOffer, DownloadJob, ExternalModelSource, LibraryStatus, RecommendedLadder, Settings } from '../../shared/contract.js';
import { catalogEntryUri } from '../../shared/modelCatalog.js';
import type { ChatEngine } from '../engine/types.js';
import { recommendLadder } from '../governor/recommend.js';
import { isGgufFileName, splitModelParts } from '../models/catalog.js';
import { externalModelSources, sourceFolders, type DiscoveryOptions } from '../models/discovery.js';
import { DownloadError, DownloadManager, parseModelSource, statfsFreeBytes, type DownloadJob as ManagerJob, type FreeSpaceProbe } from '../models/download/index.js';
import { loadModelCatalog } from '../models/modelCatalog.js';
import { costPredictionDto, type GovernorService } from './governorService.js';

/** Free disk kept beyond the ladder's downloads when recommending: 2 GiB (a product choice: room for the OS and the app's own data). */
export const RECOMMEND_DISK_RESERVE_BYTES = 2 * 1024 ** 3;

/** A library failure with an API code (the backend maps it). */
export class LibraryError extends Error {
  override readonly name = 'LibraryError';
  constructor(
    readonly code: 'BAD_INPUT' | 'NOT_FOUND' | 'STORAGE_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link LibraryService}. */
export interface LibraryServiceOptions {
  governor: GovernorService;
  engine: ChatEngine;
  modelsDir: () => string;
  settings: () => Settings;
  /** Pushes `downloads.changed` / `models.changed`. */
  emitJob: (job: DownloadJob) => void;
  emitModelsChanged: () => void;
  /** How other apps' folders are read (the same as the governor's); `false` reads none. */
  discovery?: DiscoveryOptions | false;
  /** Environment for `HF_ENDPOINT` / `HF_TOKEN` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Free-space probe (tests inject their own). */
  freeBytes?: FreeSpaceProbe;
  /** This machine's RAM, bytes (default `os.totalmem()`). */
  totalMemoryBytes?: number;
}

/** The service. One per backend. */
export class LibraryService {
  private manager: DownloadManager | null = null;
  private managerDir: string | null = null;
  private readonly lastProgressEmit = new Map<string, number>();
  private restored: Promise<void> | null = null;

  constructor(private readonly options: LibraryServiceOptions) {}

  private totalMemory(): number {
    return this.options.totalMemoryBytes ?? totalmem();
  }

  private async freeDisk(dir: string): Promise<number | null> {
    const probe = this.options.freeBytes ?? statfsFreeBytes;
    // The models folder may not exist yet: ask its nearest existing parent.
    let at = resolve(dir);
    for (;;) {
      try {
        await stat(at);
        break;
      } catch {
        const up = dirname(at);
        if (up === at) return null;
        at = up;
      }
    }
    try {
      return await probe(at);
    } catch {
      return null;
    }
  }

  /** Folders, disk and memory, and what each other app's folder holds. */
  async status(): Promise<LibraryStatus> {
    const settings = this.options.settings();
    const modelsDir = this.options.modelsDir();
    const installed = await this.options.governor.installedModels(settings);
    const discovery = this.options.discovery === false ? null : (this.options.discovery ?? {});
    return {
      modelsDir,
      modelsDirBytes: installed.filter((m) => m.source === 'models-folder').reduce((s, m) => s + m.sizeBytes, 0),
      freeDiskBytes: await this.freeDisk(modelsDir),
      totalMemoryBytes: this.totalMemory(),
      sources: externalModelSources.map((source: ExternalModelSource) => ({
        source,
        enabled: settings.modelSources[source] && discovery !== null,
        folders: discovery === null ? [] : sourceFolders(source, discovery),
        found: installed.filter((m) => m.source === source).length,
      })),
    };
  }

  /** The catalog as offered on this machine, in catalog order. */
  async offers(): Promise<CatalogOffer[]> {
    const entries = loadModelCatalog().entries;
    const { candidates, memoryBytes } = await this.options.governor.catalogCandidates(entries, this.totalMemory());
    const installed = await this.options.governor.installedModels();
    return entries.map((entry, i) => {
      const c = candidates[i]!;
      const copy = installed.find((m) => m.usable && m.sizeBytes === entry.sizeBytes && m.fileName.toLowerCase() === entry.file.toLowerCase());
      return {
        entry,
        uri: catalogEntryUri(entry),
        predicted: costPredictionDto(c.cost),
        quality: Math.min(1, Math.max(0, c.quality)),
        qualitySource: c.qualitySource,
        qualityBasis: c.qualityBasis,
        memoryBytes: memoryBytes[i]!,
        fitsMemory: c.fits,
        installedPath: copy?.path ?? null,
      };
    });
  }

  /** The recommended ladder for this computer (see electron/governor/recommend.ts). */
  async recommend(): Promise<RecommendedLadder> {
    const entries = loadModelCatalog().entries;
    const { candidates, power, usage } = await this.options.governor.catalogCandidates(entries, this.totalMemory());
    const offers = await this.offers();
    const byUri = new Map(offers.map((o) => [o.uri, o]));
    const free = await this.freeDisk(this.options.modelsDir());
    const installed = new Set(offers.filter((o) => o.installedPath !== null).map((o) => o.uri));
    const ladder = recommendLadder({
      candidates,
      power,
      usage,
      diskBudgetBytes: free === null ? null : Math.max(0, free - RECOMMEND_DISK_RESERVE_BYTES),
      installed,
    });
    return {
      rungs: ladder.rungs.map((r) => ({ profile: r.profile, offer: byUri.get(r.candidate.modelPath)!, reason: r.reason })),
      downloadBytes: ladder.downloadBytes,
      freeDiskBytes: free,
      note: ladder.note,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Downloads
  // -------------------------------------------------------------------------------------------

  /** The download manager of the models folder in effect (a new one when the folder changed). */
  private downloads(): DownloadManager {
    const dir = this.options.modelsDir();
    if (this.manager && this.managerDir === dir) return this.manager;
    const manager = new DownloadManager({
      modelsDir: dir,
      env: this.options.env ?? process.env,
      ...(this.options.freeBytes ? { freeBytes: this.options.freeBytes } : {}),
      progressIntervalMs: 250,
    });
    manager.on('change', (job) => {
      this.options.emitJob(toDto(job));
      if (job.state === 'done') this.options.emitModelsChanged();
    });
    manager.on('progress', (job) => {
      // At most 4 progress events per second per job reach the UI.
      const now = Date.now();
      if (now - (this.lastProgressEmit.get(job.id) ?? 0) < 250) return;
      this.lastProgressEmit.set(job.id, now);
      this.options.emitJob(toDto(job));
    });
    this.manager = manager;
    this.managerDir = dir;
    this.restored = manager.restorePartials().then(
      () => undefined,
      () => undefined,
    );
    return manager;
  }

  /** Every download of this session, and partial downloads found on disk (paused). */
  async list(): Promise<DownloadJob[]> {
    const manager = this.downloads();
    await this.restored;
    return manager.jobs().map(toDto);
  }

  /**
   * Queues a download (see the contract's `downloads.start`).
   * @throws LibraryError BAD_INPUT for a source that cannot be parsed (nothing is queued).
   */
  async start(source: string, sha256?: string): Promise<DownloadJob> {
    try {
      parseModelSource(source);
    } catch (error) {
      throw new LibraryError('BAD_INPUT', error instanceof DownloadError ? error.message : String(error));
    }
    const manager = this.downloads();
    await this.restored;
    return toDto(manager.add(source, { expectedSha256: sha256 ?? null }));
  }

  /** Pauses a download. @throws LibraryError NOT_FOUND / BAD_INPUT (not running or queued). */
  async pause(id: string): Promise<DownloadJob> {
    const manager = this.downloads();
    const job = requireJob(manager, id);
    if (!manager.pause(id)) throw new LibraryError('BAD_INPUT', `Download ${id} is ${job.state}: only a queued or running download can be paused`);
    return toDto(manager.get(id)!);
  }

  /** Resumes a paused or failed download. @throws LibraryError NOT_FOUND / BAD_INPUT. */
  async resume(id: string): Promise<DownloadJob> {
    const manager = this.downloads();
    await this.restored;
    const job = requireJob(manager, id);
    if (!manager.resume(id)) throw new LibraryError('BAD_INPUT', `Download ${id} is ${job.state}: only a paused or failed download can be resumed`);
    return toDto(manager.get(id)!);
  }

  /** Cancels a download and deletes its partial file. @throws LibraryError NOT_FOUND / BAD_INPUT. */
  async cancel(id: string): Promise<DownloadJob> {
    const manager = this.downloads();
    const job = requireJob(manager, id);
    let ok: boolean;
    try {
      ok = await manager.cancel(id);
    } catch (error) {
      throw new LibraryError('STORAGE_FAILED', `could not delete the partial download: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!ok) throw new LibraryError('BAD_INPUT', `Download ${id} is ${job.state}: it cannot be cancelled`);
    return toDto(manager.get(id)!);
  }

  /** True while a download is running or queued. */
  downloading(): boolean {
    return this.manager?.jobs().some((j) => j.state === 'active' || j.state === 'queued') ?? false;
  }

  /** Resolves when no download is running or queued. */
  async idle(): Promise<void> {
    await this.manager?.idle();
  }

  /** Pauses every running download (keeping their partial files) and waits for them to stop: shutdown. */
  async dispose(): Promise<void> {
    const manager = this.manager;
    if (!manager) return;
    for (const job of manager.jobs()) if (job.state === 'active' || job.state === 'queued') manager.pause(job.id);
    await manager.idle();
  }

  // -------------------------------------------------------------------------------------------
  // Deleting
  // -------------------------------------------------------------------------------------------

  /**
   * Deletes a model file (every part of a split model) from Wattwise's own models folder: never a file
   * elsewhere (other apps' files are theirs), never through a symbolic link that leads out of the folder.
   * Unloads it first when it is loaded.
   * @throws LibraryError NOT_FOUND (missing), BAD_INPUT (outside the folder, not a .gguf, not a regular
   *   file), STORAGE_FAILED (the file system refused).
   */
  async delete(modelPath: string): Promise<{ deleted: boolean; freedBytes: number }> {
    const dir = resolve(this.options.modelsDir());
    const path = resolve(modelPath);
    const outside = new LibraryError('BAD_INPUT', `Only .gguf files in Wattwise's models folder (${dir}) can be deleted`);
    // Where a path is decided before whether it exists: outside the folder every path gets the same answer,
    // so the API never tells whether some other file exists.
    if (!isGgufFileName(path)) throw outside;
    const realDir = await realpathOfExisting(dir);
    const rel = relative(realDir, join(await realpathOfExisting(dirname(path)), basename(path)));
    // A link in the folder is deleted as a link, never its target.
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw outside;
    let st;
    try {
      st = await lstat(path);
    } catch {
      throw new LibraryError('NOT_FOUND', `Model file not found: ${path}`);
    }
    if (!st.isFile() && !st.isSymbolicLink()) throw new LibraryError('BAD_INPUT', `Not a model file: ${path}`);
    if (this.options.engine.status().modelPath === path) await this.options.engine.unload();
    let freed = 0;
    try {
      for (const part of splitModelParts(path)) {
        const pst = await lstat(part).catch(() => null);
        if (!pst) continue;
        freed += pst.isFile() ? pst.size : 0;
        await unlink(part);
      }
    } catch (error) {
      throw new LibraryError('STORAGE_FAILED', `could not delete ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    await removeEmptyFolders(dirname(path), realDir);
    this.options.emitModelsChanged();
    return { deleted: true, freedBytes: freed };
  }
}

/**
 * The real path of `p` as far as it exists: the nearest existing ancestor resolved (symbolic links
 * followed), with the missing rest appended as written.
 */
async function realpathOfExisting(p: string): Promise<string> {
  const rest: string[] = [];
  let at = resolve(p);
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return resolve(p);
      rest.push(basename(at));
      at = up;
    }
  }
}

/** Removes `from` and its parents while they are empty, stopping at `root` (downloads make `<org>/<repo>/`). */
async function removeEmptyFolders(from: string, root: string): Promise<void> {
  let dir = await realpath(from).catch(() => from);
  while (dir !== root && relative(root, dir) !== '' && !relative(root, dir).startsWith('..')) {
    const entries = await readdir(dir).catch(() => null);
    if (entries === null || entries.length > 0) return;
    await rmdir(dir).catch(() => undefined);
    dir = dirname(dir);
  }
}

function requireJob(manager: DownloadManager, id: string): ManagerJob {
  const job = manager.get(id);
  if (!job) throw new LibraryError('NOT_FOUND', `No download with id ${id}`);
  return job;
}

function toDto(job: ManagerJob): DownloadJob {
  return {
    id: job.id,
    input: job.input,
    state: job.state,
    destPath: job.destPath,
    source: job.source,
    progress: job.progress ? { ...job.progress } : null,
    result: job.result
      ? { path: job.result.path, sizeBytes: job.result.sizeBytes, sha256: job.result.sha256, verified: job.result.verified, resumedFromBytes: job.result.resumedFromBytes }
      : null,
    error: job.error ? { code: job.error.code, message: job.error.message } : null,
  };
}
