/**
 * Finds the GGUF models that other local-LLM apps (LM Studio, Ollama, the Hugging Face CLI/libraries, GPT4All,
 * Jan) already downloaded, so Wattwise can list them **in place**: this module only reads (`readdir`, `stat`,
 * `realpath`, and small bounded reads of a few text/JSON files). It never creates, copies, moves, renames,
 * deletes or writes anything, and it never reads model weights (the catalog reads GGUF headers later).
 *
 * Plain Node (no Electron), never throws: an unreadable or missing folder is skipped, a broken entry (dangling
 * link, bad Ollama manifest, missing blob) is listed with a one-line `problem`.
 *
 * Where each app keeps its models (the sources each layout was checked against are cited on the scanner):
 *
 * | source              | folders read, in order (every one that exists is read)                              |
 * | ------------------- | ----------------------------------------------------------------------------------- |
 * | `lmstudio`          | `settings.json` `downloadsFolder`, `<LM Studio home>/models`, `~/.cache/lm-studio/models` |
 * | `ollama`            | `$OLLAMA_MODELS` else `~/.ollama/models`; Linux service store `/usr/share/ollama/.ollama/models` |
 * | `huggingface-cache` | `$HF_HUB_CACHE` / `$HUGGINGFACE_HUB_CACHE` / `$HF_HOME/hub` / `$XDG_CACHE_HOME/huggingface/hub` / `~/.cache/huggingface/hub` |
 * | `gpt4all`           | Linux `$XDG_DATA_HOME/nomic.ai/GPT4All`, macOS `~/Library/Application Support/nomic.ai/GPT4All`, Windows `%LOCALAPPDATA%\nomic.ai\GPT4All` |
 * | `jan`               | `<Jan data>/llamacpp/models`, `<Jan data>/models`, `~/jan/models`                    |
 *
 * Decisions (each also stated where it is implemented):
 * - **Vision projectors** (`mmproj-*.gguf`, `*-mmproj-*.gguf`, Jan's `mmproj.gguf`; llama.cpp's naming for the
 *   CLIP/SigLIP projector of a multimodal model) are **skipped**: they are not language models, cannot be
 *   chatted with alone, and each app lists them as part of their model, not as a model.
 * - **Split models**: only part 1 of `name-0000N-of-0000M.gguf` is listed (like the catalog, which reads the
 *   other parts through the first).
 * - **Ollama**: one entry **per blob**, `appName` lists every tag that points to it (`"llama3.2:3b, llama3.2:latest"`).
 *   Manifests without a GGUF model layer (e.g. cloud-only models) are skipped silently.
 * - **Hugging Face cache**: one entry per file path inside the repository; the revision `refs/main` points to
 *   is preferred, else the most recently modified snapshot. Older revisions of the same file are not listed.
 * - **Overlapping folders** of one source (e.g. `~/.cache/lm-studio` left as a link to `~/.lmstudio`) are read
 *   once: folders are identified by their real path.
 * - Entries with a `problem` may have a `path` that is not a GGUF (an Ollama manifest that explains the
 *   problem, or an Ollama blob that is missing): consumers must check `problem` before using `path`.
 */
import { accessSync, constants as fsConstants, closeSync, fstatSync, openSync, readSync, statSync, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { posix, win32, type PlatformPath } from 'node:path';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** Where a model file was found: Wattwise's own models folder, or another app's folder. */
export type ModelSource = 'models-folder' | 'lmstudio' | 'ollama' | 'huggingface-cache' | 'gpt4all' | 'jan';

/** A source that belongs to another app (everything but Wattwise's own models folder). */
export type ExternalModelSource = Exclude<ModelSource, 'models-folder'>;

/** Every external source, in the order results are sorted and Settings lists them. */
export const externalModelSources: readonly ExternalModelSource[] = ['lmstudio', 'ollama', 'huggingface-cache', 'gpt4all', 'jan'];

/** One GGUF found in another app's folder. */
export interface DiscoveredModelFile {
  /**
   * Absolute path of the .gguf (for Ollama: the blob path; for the HF cache: the snapshot path, i.e. the
   * symlink). When `problem` is set this may instead be the file that explains the problem (an Ollama
   * manifest that cannot be used) or a path that does not exist (a missing Ollama blob).
   */
  path: string;
  /** The app whose folder holds it. */
  source: ExternalModelSource;
  /**
   * What that app calls it: Ollama `<model>:<tag>` (namespace prefix when not "library", host prefix when not
   * registry.ollama.ai; several tags of one blob joined with ", "), HF `<org>/<repo>`, LM Studio
   * `<publisher>/<repo>`, Jan its model id (`<folder>` or `<org>/<repo>`); null when the app has no name for
   * it (GPT4All, or a file outside the app's expected layout).
   */
  appName: string | null;
  /** Why it cannot be used (broken symlink, unreadable or invalid manifest, missing blob...), else null. */
  problem: string | null;
}

/** Options of {@link discoverModelFiles} and {@link sourceFolders}. */
export interface DiscoveryOptions {
  /** Home folder; default os.homedir() (which honours HOME). A relative path counts as no home. */
  home?: string;
  /** Environment; default process.env (OLLAMA_MODELS, HF_HUB_CACHE, HF_HOME, XDG_DATA_HOME, LOCALAPPDATA, APPDATA...). */
  env?: Record<string, string | undefined>;
  /** Default process.platform. Chooses the folder conventions and the path syntax (`path.win32` on win32). */
  platform?: NodeJS.Platform;
  /** Sources turned off (Settings can turn each off). Default: all on. */
  disabled?: readonly ExternalModelSource[];
  /**
   * Also read machine-wide folders outside the home: on Linux, the store of Ollama's system service
   * (`/usr/share/ollama/.ollama/models`, used when Ollama runs as the `ollama` user), and only when it is
   * readable. Default: true when `home` is not given (the real user), false when a `home` is passed, so
   * tests and previews on a fixture home never see this machine's files.
   */
  systemFolders?: boolean;
  /** Most directory entries read per source (all its folders together); default {@link discoveryLimits}. */
  maxEntriesPerSource?: number;
}

/** The bounds every scan stays within. */
export const discoveryLimits = {
  /** Folder levels below a source folder that are searched (files at most this many folders deep). */
  maxDepth: 4,
  /** Directory entries read per source, all its folders together; the rest is not looked at. */
  maxEntriesPerSource: 10_000,
  /** An Ollama manifest larger than this is listed with a problem instead of being read. */
  maxManifestBytes: 1024 * 1024,
  /** Largest small text file read (LM Studio's home pointer and settings, HF `refs/main`). */
  maxSmallFileBytes: 256 * 1024,
} as const;

// ---------------------------------------------------------------------------------------------
// Context: home, environment, platform
// ---------------------------------------------------------------------------------------------

type Env = Record<string, string | undefined>;

interface Ctx {
  /** Absolute home, or null when unknown/relative (then no home-based folder is used). */
  home: string | null;
  env: Env;
  platform: NodeJS.Platform;
  /** `path.win32` on Windows, `path.posix` elsewhere. */
  p: PlatformPath;
  systemFolders: boolean;
  maxEntries: number;
}

function makeContext(options: DiscoveryOptions = {}): Ctx {
  const platform = options.platform ?? process.platform;
  const p = platform === 'win32' ? win32 : posix;
  let home: string | null = null;
  try {
    const h = options.home ?? homedir();
    home = h !== '' && p.isAbsolute(h) ? p.normalize(h) : null;
  } catch {
    home = null; // os.homedir() throws when neither HOME nor the passwd entry is usable
  }
  const max = options.maxEntriesPerSource;
  return {
    home,
    env: options.env ?? process.env,
    platform,
    p,
    systemFolders: options.systemFolders ?? options.home === undefined,
    maxEntries: max != null && Number.isFinite(max) && max >= 0 ? Math.floor(max) : discoveryLimits.maxEntriesPerSource,
  };
}

/**
 * An environment variable holding a folder: trimmed, surrounding quotes removed (as Ollama's
 * `envconfig.Var` does), a leading `~` expanded to the home (as Python's `expanduser` does for the HF
 * variables). Null when unset, empty, or not absolute (a relative path was meant for the other app's
 * working directory, which is unknown here).
 */
function envFolder(ctx: Ctx, name: string): string | null {
  let v = ctx.env[name]?.trim();
  if (!v) return null;
  v = v.replace(/^["']+|["']+$/g, '').trim();
  if (v === '') return null;
  if (ctx.home != null && (v === '~' || v.startsWith('~/') || (ctx.platform === 'win32' && v.startsWith('~\\')))) {
    v = ctx.p.join(ctx.home, v.slice(1));
  }
  return ctx.p.isAbsolute(v) ? ctx.p.normalize(v) : null;
}

/** `home` joined with `parts`, or null without a home. */
function inHome(ctx: Ctx, ...parts: string[]): string | null {
  return ctx.home == null ? null : ctx.p.join(ctx.home, ...parts);
}

/** Distinct non-null folders, in order (exact string comparison). */
function distinct(folders: (string | null)[]): string[] {
  const out: string[] = [];
  for (const f of folders) if (f != null && !out.includes(f)) out.push(f);
  return out;
}

/**
 * Reads a small regular file synchronously, or returns null (missing, not a regular file — so a FIFO never
 * blocks —, larger than `maxBytes`, unreadable). Used by {@link sourceFolders}, which is synchronous.
 */
function readSmallTextSync(file: string, maxBytes: number = discoveryLimits.maxSmallFileBytes): string | null {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > maxBytes) return null;
    const fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    try {
      if (!fstatSync(fd).isFile()) return null;
      const buf = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const n = readSync(fd, buf, length, buf.length - length, length);
        if (n === 0) break;
        length += n;
        if (length > maxBytes) return null;
      }
      return buf.toString('utf8', 0, length).replace(/^\uFEFF/, '');
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** Async twin of {@link readSmallTextSync}; `tooLarge` reports the size when the cap was the reason. */
async function readSmallText(
  file: string,
  maxBytes: number,
): Promise<{ text: string } | { tooLarge: number } | { error: string }> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return { error: 'not a file' };
    if (st.size > maxBytes) return { tooLarge: st.size };
    const handle = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    try {
      if (!(await handle.stat()).isFile()) return { error: 'not a file' };
      const buf = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) return { tooLarge: length };
      }
      return { text: buf.toString('utf8', 0, length).replace(/^\uFEFF/, '') };
    } finally {
      await handle.close();
    }
  } catch (err) {
    return { error: errorCode(err) ?? 'unreadable' };
  }
}

function errorCode(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : null;
}

// ---------------------------------------------------------------------------------------------
// Folders per source
// ---------------------------------------------------------------------------------------------

/** LM Studio's `settings.json`: only the field we use. */
const lmStudioSettingsSchema = z.object({ downloadsFolder: z.string().min(1).max(4096).optional() });

/**
 * LM Studio: its home is `~/.lmstudio` unless `~/.lmstudio-home-pointer` names another folder (LM Studio's own
 * way to move its data, lmstudio-ai/lmstudio-bug-tracker#553 and #2015); models are in `<home>/models` as
 * `<publisher>/<repo>/<file>.gguf` (lmstudio.ai/docs/advanced/sideload), unless Settings → Models Directory
 * set another folder, saved as `downloadsFolder` in `<home>/settings.json` (v1ckxy/LMSPLS#2). Versions before
 * 0.3 used `~/.cache/lm-studio/models` (same layout; bug-tracker#553).
 */
function lmStudioFolders(ctx: Ctx): string[] {
  const pointer = inHome(ctx, '.lmstudio-home-pointer');
  const pointed = pointer == null ? null : readSmallTextSync(pointer, 4096)?.trim() ?? null;
  const lmHome = pointed && ctx.p.isAbsolute(pointed) ? ctx.p.normalize(pointed) : inHome(ctx, '.lmstudio');
  let custom: string | null = null;
  if (lmHome != null) {
    const text = readSmallTextSync(ctx.p.join(lmHome, 'settings.json'));
    if (text != null) {
      try {
        const parsed = lmStudioSettingsSchema.safeParse(JSON.parse(text));
        const folder = parsed.success ? parsed.data.downloadsFolder : undefined;
        if (folder && ctx.p.isAbsolute(folder)) custom = ctx.p.normalize(folder);
      } catch {
        custom = null; // not JSON: LM Studio would reset it; fall back to the defaults
      }
    }
  }
  return distinct([custom, lmHome == null ? null : ctx.p.join(lmHome, 'models'), inHome(ctx, '.cache', 'lm-studio', 'models')]);
}

/** Where the Ollama system service (Linux install script, user `ollama`) keeps its models. */
const ollamaSystemStore = '/usr/share/ollama/.ollama/models';

/**
 * Ollama: `$OLLAMA_MODELS`, else `~/.ollama/models` on every OS (ollama/ollama `envconfig/config.go`
 * `Models()`, docs/faq.md "Where are models stored?"). On Linux the install script runs Ollama as a system
 * service whose home is `/usr/share/ollama`, so its store is `/usr/share/ollama/.ollama/models`: included
 * only with `systemFolders` and when readable.
 */
function ollamaFolders(ctx: Ctx): string[] {
  const folders = [envFolder(ctx, 'OLLAMA_MODELS') ?? inHome(ctx, '.ollama', 'models')];
  if (ctx.systemFolders && ctx.platform === 'linux') {
    try {
      accessSync(ollamaSystemStore, fsConstants.R_OK | fsConstants.X_OK);
      if (statSync(ollamaSystemStore).isDirectory()) folders.push(ollamaSystemStore);
    } catch {
      // absent or not readable: nothing to list
    }
  }
  return distinct(folders);
}

/**
 * Hugging Face hub cache, as huggingface_hub's `constants.py` computes it on every OS: `$HF_HUB_CACHE`, else
 * the legacy `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
 * `~/.cache/huggingface/hub` (huggingface.co/docs/hub/local-cache, "Cache location").
 */
function huggingFaceFolders(ctx: Ctx): string[] {
  const direct = envFolder(ctx, 'HF_HUB_CACHE') ?? envFolder(ctx, 'HUGGINGFACE_HUB_CACHE');
  if (direct != null) return [direct];
  const hfHome = envFolder(ctx, 'HF_HOME');
  if (hfHome != null) return [ctx.p.join(hfHome, 'hub')];
  const xdgCache = envFolder(ctx, 'XDG_CACHE_HOME');
  if (xdgCache != null) return [ctx.p.join(xdgCache, 'huggingface', 'hub')];
  return distinct([inHome(ctx, '.cache', 'huggingface', 'hub')]);
}

/**
 * GPT4All's default download folder (Qt `AppLocalDataLocation`; nomic-ai/gpt4all
 * `gpt4all-bindings/python/docs/gpt4all_desktop/settings.md`, "Download Path"): Windows
 * `%LOCALAPPDATA%\nomic.ai\GPT4All`, macOS `~/Library/Application Support/nomic.ai/GPT4All`, Linux
 * `~/.local/share/nomic.ai/GPT4All` (`$XDG_DATA_HOME` honoured). A download path changed in GPT4All's own
 * settings is not followed.
 */
function gpt4AllFolders(ctx: Ctx): string[] {
  if (ctx.platform === 'win32') {
    const local = envFolder(ctx, 'LOCALAPPDATA') ?? inHome(ctx, 'AppData', 'Local');
    return distinct([local == null ? null : ctx.p.join(local, 'nomic.ai', 'GPT4All')]);
  }
  if (ctx.platform === 'darwin') return distinct([inHome(ctx, 'Library', 'Application Support', 'nomic.ai', 'GPT4All')]);
  const data = envFolder(ctx, 'XDG_DATA_HOME') ?? inHome(ctx, '.local', 'share');
  return distinct([data == null ? null : ctx.p.join(data, 'nomic.ai', 'GPT4All')]);
}

/**
 * Jan: its data folder is the OS data dir + product name + `data` (janhq/jan `src-tauri` `default_data_folder_path`:
 * Tauri `data_dir()` = `$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
 * `%APPDATA%` on Windows). Jan ≥ 0.6 (llama.cpp extension) keeps `llamacpp/models/<model id>/model.gguf`
 * with `model.yml` and an optional `mmproj.gguf` (janhq/jan `extensions/llamacpp-extension/src/index.ts`);
 * 0.5 (Cortex) kept `<data>/models/...`; ≤ 0.4 used `~/jan/models/<id>/` (janhq/jan docs quickstart).
 */
function janFolders(ctx: Ctx): string[] {
  let dataDir: string | null;
  if (ctx.platform === 'win32') dataDir = envFolder(ctx, 'APPDATA') ?? inHome(ctx, 'AppData', 'Roaming');
  else if (ctx.platform === 'darwin') dataDir = inHome(ctx, 'Library', 'Application Support');
  else dataDir = envFolder(ctx, 'XDG_DATA_HOME') ?? inHome(ctx, '.local', 'share');
  const janData = dataDir == null ? null : ctx.p.join(dataDir, 'Jan', 'data');
  return distinct([
    janData == null ? null : ctx.p.join(janData, 'llamacpp', 'models'),
    janData == null ? null : ctx.p.join(janData, 'models'),
    inHome(ctx, 'jan', 'models'),
  ]);
}

function foldersOf(source: ExternalModelSource, ctx: Ctx): string[] {
  switch (source) {
    case 'lmstudio': return lmStudioFolders(ctx);
    case 'ollama': return ollamaFolders(ctx);
    case 'huggingface-cache': return huggingFaceFolders(ctx);
    case 'gpt4all': return gpt4AllFolders(ctx);
    case 'jan': return janFolders(ctx);
  }
}

/**
 * The folders each source reads on this platform, in order (for Settings to show). Absolute paths in the
 * platform's syntax; they may not exist. Reads at most LM Studio's two small settings files
 * (`~/.lmstudio-home-pointer`, `settings.json`) and checks whether Ollama's system store exists; never throws
 * (returns `[]` when no folder can be named, e.g. no usable home and no environment override).
 */
export function sourceFolders(source: ExternalModelSource, options?: DiscoveryOptions): string[] {
  try {
    return foldersOf(source, makeContext(options));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Bounded walk
// ---------------------------------------------------------------------------------------------

/**
 * `-00001-of-00003.gguf` split parts (llama.cpp `gguf-split` naming; same pattern as `splitModelParts` in
 * catalog.ts, repeated here so this module does not load node-llama-cpp).
 */
const splitPartPattern = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** llama.cpp's multimodal projector files: `mmproj-*.gguf`, `*-mmproj-*.gguf`, `*.mmproj-f16.gguf`, `mmproj.gguf`. */
const mmprojPattern = /(^|[-_.])mmproj([-_.]|$)/i;

/**
 * True for a file name Wattwise lists as a model: ends in `.gguf` (any case), not hidden, not part 2..N of a
 * split model, not a vision projector (see the module docs for why those are skipped).
 */
export function isDiscoverableModelFileName(name: string): boolean {
  if (name.startsWith('.') || !/\.gguf$/i.test(name)) return false;
  const split = splitPartPattern.exec(name);
  if (split != null && Number(split[1]) !== 1) return false;
  return !mmprojPattern.test(name.slice(0, -5));
}

/** Entries left to read for one source (shared by its folders). */
interface Budget {
  left: number;
}

/** A file found by {@link walkModelFiles}. */
interface FoundFile {
  path: string;
  /** Folder names from the walk's root to the file's folder. */
  rel: string[];
  /** The error code when the file is a link whose target cannot be reached (ENOENT, ELOOP...). */
  linkError: string | null;
}

/** Readdir within the budget, sorted by name for a stable order; `null` when unreadable or not a folder. */
async function readDirBounded(dir: string, budget: Budget): Promise<Dirent[] | null> {
  if (budget.left <= 0) return null;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kept = entries.slice(0, budget.left);
  budget.left -= kept.length;
  return kept;
}

/** What an entry is once links are followed; `linkError` when it is a link that cannot be followed. */
async function entryKind(full: string, entry: Dirent): Promise<{ dir: boolean; file: boolean; linkError: string | null }> {
  if (!entry.isSymbolicLink()) return { dir: entry.isDirectory(), file: entry.isFile(), linkError: null };
  try {
    const st = await stat(full);
    return { dir: st.isDirectory(), file: st.isFile(), linkError: null };
  } catch (err) {
    return { dir: false, file: true, linkError: errorCode(err) ?? 'EIO' };
  }
}

/**
 * Every model file (per `accept`, default {@link isDiscoverableModelFileName}) under `root`, at most
 * `maxDepth` folders deep. Follows links to files and folders; a folder already seen (same real path, e.g.
 * through a link loop or an overlapping root, tracked in `visited`) is not read again. Hidden entries are
 * skipped. Stops when the budget is spent. Never throws.
 */
async function walkModelFiles(
  ctx: Ctx,
  root: string,
  maxDepth: number,
  budget: Budget,
  visited: Set<string>,
  accept: (name: string) => boolean = isDiscoverableModelFileName,
): Promise<FoundFile[]> {
  const out: FoundFile[] = [];
  const visit = async (dir: string, rel: string[]): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    const entries = await readDirBounded(dir, budget);
    if (entries == null) return;
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = ctx.p.join(dir, entry.name);
      const kind = await entryKind(full, entry);
      if (kind.dir) {
        if (rel.length < maxDepth) await visit(full, [...rel, entry.name]);
      } else if (kind.file && accept(entry.name)) {
        out.push({ path: full, rel, linkError: kind.linkError });
      }
    }
  };
  await visit(root, []);
  return out;
}

/** One-line problem for a link that cannot be followed. */
function linkProblem(code: string | null, missingTarget = 'its target is missing'): string | null {
  if (code == null) return null;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `broken link (${missingTarget})`;
  if (code === 'ELOOP') return 'broken link (loop)';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot follow the link (permission denied)';
  return `cannot follow the link (${code})`;
}

// ---------------------------------------------------------------------------------------------
// Scanners
// ---------------------------------------------------------------------------------------------

/** LM Studio: `<models>/<publisher>/<repo>/*.gguf`; appName `<publisher>/<repo>` when the file sits that deep. */
async function scanLmStudio(ctx: Ctx, budget: Budget): Promise<DiscoveredModelFile[]> {
  const visited = new Set<string>();
  const out: DiscoveredModelFile[] = [];
  for (const root of lmStudioFolders(ctx)) {
    for (const f of await walkModelFiles(ctx, root, discoveryLimits.maxDepth, budget, visited)) {
      out.push({
        path: f.path,
        source: 'lmstudio',
        appName: f.rel.length >= 2 ? `${f.rel[0]}/${f.rel[1]}` : null,
        problem: linkProblem(f.linkError),
      });
    }
  }
  return out;
}

/** GPT4All: `*.gguf` directly in its folder; `incomplete-<name>` files are downloads in progress (gpt4all `ModelList::incompleteDownloadPath`). */
async function scanGpt4All(ctx: Ctx, budget: Budget): Promise<DiscoveredModelFile[]> {
  const visited = new Set<string>();
  const out: DiscoveredModelFile[] = [];
  const accept = (name: string) => isDiscoverableModelFileName(name) && !name.startsWith('incomplete-');
  for (const root of gpt4AllFolders(ctx)) {
    for (const f of await walkModelFiles(ctx, root, 0, budget, visited, accept)) {
      out.push({ path: f.path, source: 'gpt4all', appName: null, problem: linkProblem(f.linkError) });
    }
  }
  return out;
}

/** Jan: `<models>/<model id>/model.gguf` (the id may have slashes); appName is the model id. */
async function scanJan(ctx: Ctx, budget: Budget): Promise<DiscoveredModelFile[]> {
  const visited = new Set<string>();
  const out: DiscoveredModelFile[] = [];
  for (const root of janFolders(ctx)) {
    for (const f of await walkModelFiles(ctx, root, discoveryLimits.maxDepth, budget, visited)) {
      out.push({ path: f.path, source: 'jan', appName: f.rel.length > 0 ? f.rel.join('/') : null, problem: linkProblem(f.linkError) });
    }
  }
  return out;
}

/** The parts of an Ollama manifest we use (ollama/ollama `server/manifest.go` `ManifestV2`, `server/internal/manifest`). */
const ollamaManifestSchema = z.object({
  schemaVersion: z.literal(2).optional(),
  layers: z
    .array(
      z.object({
        mediaType: z.string().max(1024),
        digest: z.string().max(1024),
        size: z.number().nonnegative().optional(),
      }),
    )
    .max(10_000),
});

/** Media type of the layer that holds the GGUF weights (ollama/ollama `server/images.go`). */
const ollamaModelMediaType = 'application/vnd.ollama.image.model';

/**
 * A layer digest as Ollama accepts it (`manifest/paths.go` `digestPattern`: `^sha256[:-][0-9a-fA-F]{64}$`).
 * The blob path is built only from the captured hex, so a digest like `sha256:../../x` can never leave
 * `blobs/`.
 */
const ollamaDigestPattern = /^sha256[:-]([0-9a-fA-F]{64})$/;

/** The name Ollama shows for a manifest at `manifests/<host>/<namespace>/<model>/<tag>` (`GetShortTagname`). */
function ollamaName(host: string, namespace: string, model: string, tag: string): string {
  if (host === 'registry.ollama.ai') return namespace === 'library' ? `${model}:${tag}` : `${namespace}/${model}:${tag}`;
  return `${host}/${namespace}/${model}:${tag}`;
}

/** What one manifest says: its model blob's hex digest, a problem, or nothing to list. */
type ManifestVerdict = { hex: string } | { problem: string } | null;

async function readOllamaManifest(file: string): Promise<ManifestVerdict> {
  const read = await readSmallText(file, discoveryLimits.maxManifestBytes);
  if ('tooLarge' in read) return { problem: `invalid manifest (${read.tooLarge} bytes; the limit is 1 MiB)` };
  if ('error' in read) return read.error === 'not a file' ? null : { problem: `cannot read the manifest (${read.error})` };
  let json: unknown;
  try {
    json = JSON.parse(read.text);
  } catch {
    return { problem: 'invalid manifest (not JSON)' };
  }
  const parsed = ollamaManifestSchema.safeParse(json);
  if (!parsed.success) return { problem: 'invalid manifest (not an Ollama v2 manifest)' };
  const layer = parsed.data.layers.find((l) => l.mediaType === ollamaModelMediaType);
  if (layer == null) return null; // no GGUF layer (e.g. a cloud model): nothing Wattwise could run
  const m = ollamaDigestPattern.exec(layer.digest);
  if (m == null) return { problem: 'invalid manifest (the model layer digest is not a sha256 digest)' };
  return { hex: m[1]! };
}

/**
 * Ollama: every manifest at `manifests/<host>/<namespace>/<model>/<tag>` (ollama/ollama `server/manifest.go`
 * `Manifests()`: a 4-level glob) names its GGUF layer by digest; the weights are `blobs/sha256-<hex>`
 * (`GetBlobsPath`; versions before the `fixblobs` migration wrote `sha256:<hex>` outside Windows, which is
 * tried second). One entry per blob, all tags in `appName`, sorted. A manifest that cannot be used is listed
 * with the manifest's path; a missing blob with the path where it should be.
 */
async function scanOllama(ctx: Ctx, budget: Budget): Promise<DiscoveredModelFile[]> {
  const out: DiscoveredModelFile[] = [];
  const seenRoots = new Set<string>();
  for (const root of ollamaFolders(ctx)) {
    let realRoot: string;
    try {
      realRoot = await realpath(root);
    } catch {
      continue;
    }
    if (seenRoots.has(realRoot)) continue;
    seenRoots.add(realRoot);
    const manifestsDir = ctx.p.join(root, 'manifests');
    const blobsDir = ctx.p.join(root, 'blobs');
    /** blob hex (lower-case) → tags */
    const blobs = new Map<string, { hex: string; names: string[] }>();

    const level = async (dir: string, want: 'dir' | 'file'): Promise<{ name: string; full: string }[]> => {
      const entries = await readDirBounded(dir, budget);
      if (entries == null) return [];
      const kept: { name: string; full: string }[] = [];
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const full = ctx.p.join(dir, e.name);
        const kind = await entryKind(full, e);
        if (want === 'dir' ? kind.dir : kind.file && kind.linkError == null) kept.push({ name: e.name, full });
      }
      return kept;
    };
    for (const host of await level(manifestsDir, 'dir')) {
      for (const ns of await level(host.full, 'dir')) {
        for (const model of await level(ns.full, 'dir')) {
          for (const tag of await level(model.full, 'file')) {
            const name = ollamaName(host.name, ns.name, model.name, tag.name);
            const verdict = await readOllamaManifest(tag.full);
            if (verdict == null) continue;
            if ('problem' in verdict) {
              out.push({ path: tag.full, source: 'ollama', appName: name, problem: verdict.problem });
              continue;
            }
            const key = verdict.hex.toLowerCase();
            const entry = blobs.get(key) ?? { hex: verdict.hex, names: [] };
            entry.names.push(name);
            blobs.set(key, entry);
          }
        }
      }
    }
    for (const { hex, names } of blobs.values()) {
      const appName = [...new Set(names)].sort().join(', ');
      const current = ctx.p.join(blobsDir, `sha256-${hex}`);
      const candidates = ctx.platform === 'win32' ? [current] : [current, ctx.p.join(blobsDir, `sha256:${hex}`)];
      let found: string | null = null;
      let problem: string | null = null;
      for (const candidate of candidates) {
        try {
          const st = await stat(candidate);
          if (st.isFile()) {
            found = candidate;
            break;
          }
          problem = 'the blob is not a file';
        } catch (err) {
          const code = errorCode(err);
          if (code !== 'ENOENT' && code !== 'ENOTDIR') problem = `cannot read the blob (${code ?? 'unknown error'})`;
        }
      }
      out.push({
        path: found ?? current,
        source: 'ollama',
        appName,
        problem: found != null ? null : problem ?? 'missing blob (the download is incomplete or the blob was removed)',
      });
    }
  }
  return out;
}

/** A commit hash as written in `refs/<branch>` (huggingface_hub `REGEX_COMMIT_HASH`). */
const commitHashPattern = /^[0-9a-f]{40}$/i;

/**
 * Hugging Face cache (huggingface.co/docs/hub/local-cache, huggingface_hub guides/manage-cache): each
 * `models--<org>--<repo>` holds `refs/main` (the commit main pointed to at download), `blobs/<hash>` and
 * `snapshots/<commit>/<path in repo>` — links into `../../blobs/<hash>` (real files on Windows without
 * symlink support). Datasets and spaces are ignored. One entry per path in the repo: the `refs/main`
 * revision when it has the file, else the most recently modified snapshot; a working link is preferred to
 * a broken one. The path listed is the snapshot path.
 */
async function scanHuggingFace(ctx: Ctx, budget: Budget): Promise<DiscoveredModelFile[]> {
  const out: DiscoveredModelFile[] = [];
  const visited = new Set<string>();
  for (const root of huggingFaceFolders(ctx)) {
    const repos = await readDirBounded(root, budget);
    if (repos == null) continue;
    for (const repo of repos) {
      if (!repo.name.startsWith('models--') || repo.name.length <= 'models--'.length) continue;
      const repoDir = ctx.p.join(root, repo.name);
      if (!(await entryKind(repoDir, repo)).dir) continue;
      const appName = repo.name.slice('models--'.length).split('--').join('/');
      const ref = await readSmallText(ctx.p.join(repoDir, 'refs', 'main'), 4096);
      const mainText = 'text' in ref ? ref.text.trim() : null;
      const main = mainText != null && commitHashPattern.test(mainText) ? mainText : null;

      const snapshotsDir = ctx.p.join(repoDir, 'snapshots');
      const revisions: { name: string; dir: string; mtime: number }[] = [];
      for (const rev of (await readDirBounded(snapshotsDir, budget)) ?? []) {
        if (rev.name.startsWith('.')) continue;
        const dir = ctx.p.join(snapshotsDir, rev.name);
        try {
          const st = await stat(dir);
          if (st.isDirectory()) revisions.push({ name: rev.name, dir, mtime: st.mtimeMs });
        } catch {
          // a dangling link where a snapshot should be: nothing to read
        }
      }
      revisions.sort((a, b) =>
        a.name === main ? -1 : b.name === main ? 1 : b.mtime - a.mtime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );

      /** path inside the repo → candidates, best revision first */
      const byRelPath = new Map<string, FoundFile[]>();
      for (const rev of revisions) {
        for (const f of await walkModelFiles(ctx, rev.dir, discoveryLimits.maxDepth, budget, visited)) {
          const rel = [...f.rel, ctx.p.basename(f.path)].join('/');
          const list = byRelPath.get(rel) ?? [];
          list.push(f);
          byRelPath.set(rel, list);
        }
      }
      for (const candidates of byRelPath.values()) {
        const chosen = candidates.find((c) => c.linkError == null) ?? candidates[0]!;
        out.push({
          path: chosen.path,
          source: 'huggingface-cache',
          appName,
          problem: linkProblem(chosen.linkError, "the cache's blob is missing"),
        });
      }
    }
  }
  return out;
}

const scanners: Record<ExternalModelSource, (ctx: Ctx, budget: Budget) => Promise<DiscoveredModelFile[]>> = {
  lmstudio: scanLmStudio,
  ollama: scanOllama,
  'huggingface-cache': scanHuggingFace,
  gpt4all: scanGpt4All,
  jan: scanJan,
};

/**
 * Every GGUF found, sorted by source (in {@link externalModelSources} order) then path; never throws (an
 * unreadable folder is skipped, a broken entry is listed with `problem`). Read-only: nothing in the other
 * apps' folders is created, changed or removed. Each source reads at most `maxEntriesPerSource` directory
 * entries and searches at most {@link discoveryLimits}.maxDepth folders deep. Sources in `disabled` are not
 * touched at all.
 */
export async function discoverModelFiles(options?: DiscoveryOptions): Promise<DiscoveredModelFile[]> {
  let ctx: Ctx;
  try {
    ctx = makeContext(options);
  } catch {
    return [];
  }
  const disabled = new Set<ExternalModelSource>(options?.disabled ?? []);
  const out: DiscoveredModelFile[] = [];
  for (const source of externalModelSources) {
    if (disabled.has(source)) continue;
    try {
      out.push(...(await scanners[source](ctx, { left: ctx.maxEntries })));
    } catch {
      // never throw: a source that fails unexpectedly contributes nothing
    }
  }
  const order = (s: ExternalModelSource) => externalModelSources.indexOf(s);
  return out.sort((a, b) => order(a.source) - order(b.source) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
