/**
 * Talking to the Hugging Face Hub (or any http server) before a download: which file, how big, which sha256.
 *
 * - File tree: `GET {endpoint}/api/models/{org}/{repo}/tree/{revision}?recursive=true`, a JSON array of
 *   `{ type: "file" | "directory", path, size, oid, lfs?: { oid, size, pointerSize } }` where `lfs.oid` is the
 *   sha256 of an LFS file; paginated with a `Link: <…>; rel="next"` header (huggingface_hub `list_repo_tree`,
 *   huggingface.js `listFiles`).
 * - File metadata: `HEAD {endpoint}/{org}/{repo}/resolve/{revision}/{path}` without following redirects. For an
 *   LFS file (every GGUF) the Hub answers 302 to its CDN with `X-Linked-Etag: "<sha256>"` and
 *   `X-Linked-Size: <bytes>` (huggingface_hub `get_hf_file_metadata`, which reads `X-Linked-Etag` before `ETag`
 *   and `X-Linked-Size` before `Content-Length`). That redirect is not followed (its target becomes the
 *   download URL); other redirects (a renamed repo) are followed by hand, so that the token only goes to the
 *   endpoint's host, and a https → http downgrade is refused (except to loopback hosts).
 * - Plain URLs: `HEAD`, or `GET` with `Range: bytes=0-0` where HEAD is refused (405/501, and 403 from
 *   presigned URLs signed for GET only); the size is `Content-Length` (or the total in `Content-Range`), and
 *   there is no sha256 unless the caller knows one.
 * - Errors: HTTP statuses become {@link DownloadError}s. The Hub's `X-Error-Code` header names the cause
 *   (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, `GatedRepo`); it answers 401 rather than 404 for a
 *   repo that does not exist when no token is sent, so 401 + `RepoNotFound` is `NOT_FOUND`.
 *
 * `HF_TOKEN` (huggingface_hub's variable) is sent as `Authorization: Bearer …` only to the endpoint's host.
 */
import { z } from 'zod';
import {
  DownloadError,
  formatModelSource,
  hubEndpoint,
  hubResolveUrl,
  isLoopbackHost,
  type HubFileSource,
  type ModelSource,
  type UrlSource,
} from './hfUri.js';

/** How to reach the Hub. */
export interface HubConfig {
  /** Endpoint without trailing slash, e.g. `https://huggingface.co` (see {@link hubEndpoint}). */
  endpoint: string;
  /** Access token for gated/private repos, sent only to the endpoint's host; null for none. */
  token: string | null;
  /** `fetch` to use (tests); default the global one. */
  fetch?: typeof fetch;
}

/**
 * The Hub configuration from the environment: `HF_ENDPOINT` (see {@link hubEndpoint}) and `HF_TOKEN`
 * (huggingface_hub docs, "Environment variables").
 * @throws DownloadError `BAD_INPUT` for a bad `HF_ENDPOINT`.
 */
export function hubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const token = env.HF_TOKEN?.trim();
  return { endpoint: hubEndpoint(env), token: token ? token : null };
}

/** `User-Agent` sent with every request. */
export const USER_AGENT = 'wattwise/0.1 (+node-fetch)';

/**
 * Headers for a request to `url`: `User-Agent`, `Accept-Encoding: identity` (sizes and ranges are of the raw
 * bytes), the token when `url`'s host is the endpoint's host, and `extra`.
 */
export function requestHeaders(url: string, config: HubConfig, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, 'Accept-Encoding': 'identity', ...extra };
  if (config.token !== null && sameHost(url, config.endpoint)) headers.Authorization = `Bearer ${config.token}`;
  return headers;
}

function sameHost(a: string, b: string): boolean {
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return false;
  }
}

/** Most redirects followed for one request (browsers allow 20; the Hub uses one or two). */
const MAX_REDIRECTS = 10;

/** A response and the redirect responses that led to it. */
export interface FollowedResponse {
  /** The final (non-redirect) response; its body is unread. */
  response: Response;
  /** URL of the final response. */
  url: string;
  /** Headers of each redirect response, in order (their bodies are discarded). */
  redirects: Headers[];
  /** True when `stopAtLinkedRedirect` stopped at a redirect: `response` is that redirect, `url` its target. */
  stoppedAtRedirect: boolean;
}

/**
 * `fetch` that follows redirects itself, recomputing the headers for each hop with {@link requestHeaders} (so
 * the token never leaves the endpoint's host) and refusing a downgrade to plain http to a non-loopback host.
 *
 * With `stopAtLinkedRedirect`, a redirect that carries both `X-Linked-Etag` and `X-Linked-Size` (the Hub's
 * redirect of an LFS file to its CDN) is not followed: it is returned, with `url` set to its target. That is all
 * huggingface_hub's `get_hf_file_metadata` asks too (it follows only relative redirects), and it spares a request
 * to CDN links that are signed for GET only.
 *
 * @throws DownloadError `NETWORK` when the server cannot be reached, a redirect has no `Location`, there are
 *   more than 10 redirects or a redirect downgrades to http; the `AbortSignal`'s reason when aborted.
 */
export async function fetchFollowingRedirects(
  url: string,
  init: { method: 'GET' | 'HEAD'; headers?: Record<string, string>; signal?: AbortSignal; stopAtLinkedRedirect?: boolean },
  config: HubConfig,
): Promise<FollowedResponse> {
  const doFetch = config.fetch ?? fetch;
  const redirects: Headers[] = [];
  let current = url;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await doFetch(current, {
        method: init.method,
        headers: requestHeaders(current, config, init.headers),
        redirect: 'manual',
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw new DownloadError('NETWORK', `cannot reach ${new URL(current).host}: ${describeFetchError(error)}`, { cause: error });
    }
    if (response.status < 300 || response.status >= 400 || response.status === 304) return { response, url: current, redirects, stoppedAtRedirect: false };
    const location = response.headers.get('location');
    await response.body?.cancel().catch(() => undefined);
    if (location === null) throw new DownloadError('NETWORK', `HTTP ${response.status} redirect without a Location from ${new URL(current).host}`);
    if (hop >= MAX_REDIRECTS) throw new DownloadError('NETWORK', `too many redirects from ${url}`);
    redirects.push(response.headers);
    const next = new URL(location, current);
    if (next.protocol === 'http:' && new URL(current).protocol === 'https:' && !isLoopbackHost(next.hostname)) {
      throw new DownloadError('NETWORK', `refusing a redirect from https to plain http (${next.host})`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new DownloadError('NETWORK', `refusing a redirect to ${next.protocol}`);
    current = next.href;
    if (init.stopAtLinkedRedirect && response.headers.has('x-linked-etag') && response.headers.has('x-linked-size')) {
      redirects.pop();
      return { response, url: current, redirects, stoppedAtRedirect: true };
    }
  }
}

/** One line describing a `fetch` failure (undici puts the system error in `cause`). */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The {@link DownloadError} for a non-2xx response about `what` (e.g. `repository bartowski/x`). 404 →
 * `NOT_FOUND`; 401/403 → `AUTH` (`NOT_FOUND` for the Hub's 401 `RepoNotFound`); 416 → `NETWORK`; 429 and 5xx →
 * `NETWORK` (retryable, see {@link isRetryableStatus}); anything else → `NETWORK`.
 */
export function httpStatusError(response: Response, what: string, config: HubConfig): DownloadError {
  const code = response.headers.get('x-error-code');
  const serverMessage = (response.headers.get('x-error-message') ?? '').replace(/\s+/g, ' ').slice(0, 200);
  const status = response.status;
  if (status === 404 || code === 'RepoNotFound') {
    const kind =
      code === 'RepoNotFound' ? 'repository not found' : code === 'RevisionNotFound' ? 'revision not found' : code === 'EntryNotFound' ? 'file not found' : 'not found';
    const hint = status === 401 && config.token === null ? ' (or private: set HF_TOKEN)' : '';
    return new DownloadError('NOT_FOUND', `${what}: ${kind} (HTTP ${status})${hint}`);
  }
  if (status === 401 || status === 403) {
    const gated = code === 'GatedRepo' ? 'gated repo: accept its terms on the Hub and set HF_TOKEN' : config.token === null ? 'access denied: set HF_TOKEN' : 'access denied with this HF_TOKEN';
    return new DownloadError('AUTH', `${what}: ${gated} (HTTP ${status})${serverMessage ? `: ${serverMessage}` : ''}`);
  }
  return new DownloadError('NETWORK', `${what}: HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`);
}

/** True for statuses worth retrying: 408, 425, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

// ---------------------------------------------------------------------------------------------
// The file tree and the `:QUANT` shorthand
// ---------------------------------------------------------------------------------------------

/** One entry of the Hub's tree API (huggingface.js `ListFileEntry`). Sizes in bytes. */
export interface HubTreeEntry {
  type: string;
  /** Path in the repo, `/`-separated. */
  path: string;
  /** Size of the file in bytes (for LFS files, of the real file). */
  size: number;
  /** For LFS files: `oid` is the sha256 of the content (64 hex), `size` its size in bytes. */
  lfs?: { oid: string; size: number } | undefined;
}

const treeSchema = z.array(
  z.looseObject({
    type: z.string(),
    path: z.string(),
    size: z.number().nonnegative().optional(),
    lfs: z.looseObject({ oid: z.string(), size: z.number().nonnegative() }).optional().nullable(),
  }),
);

/**
 * Every file and folder of a Hub repo at a revision (recursive, all pages).
 * @throws DownloadError `NOT_FOUND` (repo or revision), `AUTH`, `NETWORK` (also for a malformed answer).
 */
export async function listHubFiles(
  source: { owner: string; repo: string; revision: string },
  config: HubConfig,
  signal?: AbortSignal,
): Promise<HubTreeEntry[]> {
  const entries: HubTreeEntry[] = [];
  let url: string | null =
    `${config.endpoint}/api/models/${encodeURIComponent(source.owner)}/${encodeURIComponent(source.repo)}/tree/${encodeURIComponent(source.revision)}?recursive=true`;
  for (let page = 0; url !== null && page < 1000; page++) {
    const pageUrl: string = url;
    const { response } = await withRetries(() =>
      fetchFollowingRedirects(pageUrl, { method: 'GET', headers: { Accept: 'application/json' }, ...(signal ? { signal } : {}) }, config).then(async (r) => {
        if (isRetryableStatus(r.response.status)) {
          await r.response.body?.cancel().catch(() => undefined);
          throw httpStatusError(r.response, `listing ${source.owner}/${source.repo}`, config);
        }
        return r;
      }), signal);
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw httpStatusError(response, `${source.owner}/${source.repo}${source.revision !== 'main' ? `@${source.revision}` : ''}`, config);
    }
    let parsed;
    try {
      parsed = treeSchema.parse(await response.json());
    } catch (error) {
      throw new DownloadError('NETWORK', `unexpected file list from ${new URL(pageUrl).host} for ${source.owner}/${source.repo}`, { cause: error });
    }
    for (const e of parsed) entries.push({ type: e.type, path: e.path, size: e.size ?? e.lfs?.size ?? 0, lfs: e.lfs ?? undefined });
    url = nextLink(response.headers.get('link'), pageUrl);
  }
  return entries;
}

/** The `rel="next"` target of a `Link` header (RFC 8288), resolved against `base`; null when none. */
export function nextLink(header: string | null, base: string): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?/i.test(m[2] ?? '')) return new URL(m[1] ?? '', base).href;
  }
  return null;
}

/**
 * Quantization names as they appear in GGUF file names (llama.cpp `quantize` types and common suffixes):
 * `Q4_K_M`, `Q8_0`, `Q4_0_4_4`, `IQ4_XS`, `TQ1_0`, `F16`, `BF16`, `F32`, `MXFP4`, `Q4_K_XL`...
 */
const quantPattern = /(?<![A-Za-z0-9])(I?Q\d+(?:_(?:\d+|K|S|M|L|XL|XXL|XS|XXS|NL))*|TQ\d_\d|BF16|FP16|FP32|F16|F32|MXFP4(?:_MOE)?)(?![A-Za-z0-9])/gi;

/** `-00001-of-00003.gguf` (llama.cpp `gguf-split` naming). */
const splitPattern = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** The file name of a repo path (its last segment). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The quantization named in a GGUF file name, upper-cased (`Llama-3.2-1B-Instruct-Q4_K_M.gguf` → `Q4_K_M`,
 * `model.q8_0.gguf` → `Q8_0`); the last one when several match; null when none.
 */
export function quantizationOfFileName(fileName: string): string | null {
  const stem = fileName.replace(splitPattern, '').replace(/\.gguf$/i, '');
  const all = [...stem.matchAll(quantPattern)];
  const last = all.at(-1)?.[1];
  return last === undefined ? null : last.toUpperCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when `fileName` names quantization `quant` (case-insensitive, as a whole token). */
export function fileNameHasQuantization(fileName: string, quant: string): boolean {
  const stem = fileName.replace(splitPattern, '').replace(/\.gguf$/i, '');
  const wanted = quant.toUpperCase();
  if ([...stem.matchAll(quantPattern)].some((m) => m[1]?.toUpperCase() === wanted)) return true;
  return new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(quant)}(?![A-Za-z0-9_])`, 'i').test(stem);
}

/** True for model weights: `.gguf` files that are not vision projectors (`mmproj*.gguf`). */
function isModelGguf(entry: HubTreeEntry): boolean {
  const name = baseName(entry.path);
  return entry.type === 'file' && /\.gguf$/i.test(name) && !/^mmproj/i.test(name);
}

/** The quantizations available in a repo's file list, sorted; files without one are listed by name. */
export function availableQuantizations(entries: HubTreeEntry[]): string[] {
  const names = new Set<string>();
  for (const e of entries.filter(isModelGguf)) {
    const m = splitPattern.exec(e.path);
    if (m && m[1] !== '00001') continue;
    names.add(quantizationOfFileName(baseName(e.path)) ?? baseName(e.path));
  }
  return [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * Picks the file for `hf:<org>/<repo>:<QUANT>` from the repo's tree: the single-file `.gguf` whose name has
 * that quantization (case-insensitive; `mmproj` projector files are skipped); with `quant` null, the repo's only
 * single-file `.gguf`.
 *
 * @param repoLabel `org/repo` for messages.
 * @throws DownloadError `NOT_FOUND` when no `.gguf` matches (the message lists the available quantizations);
 *   `BAD_INPUT` when several single files match (listed), when only a split model (`-00001-of-0000N.gguf`)
 *   matches (not supported), or when `quant` is null and the repo has several models.
 */
export function pickQuantizationFile(entries: HubTreeEntry[], quant: string | null, repoLabel: string): HubTreeEntry {
  const ggufs = entries.filter(isModelGguf);
  const available = availableQuantizations(entries);
  const listed = available.length > 0 ? `available: ${available.join(', ')}` : 'the repo has no .gguf files';
  const matching = quant === null ? ggufs : ggufs.filter((e) => fileNameHasQuantization(baseName(e.path), quant));
  const singles = matching.filter((e) => !splitPattern.test(e.path));
  if (singles.length === 1) return singles[0]!;
  if (singles.length > 1) {
    const names = singles.map((e) => e.path);
    const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')}, …` : names.join(', ');
    if (quant === null) throw new DownloadError('BAD_INPUT', `${repoLabel} has several GGUF files: add :<QUANT> (${listed})`);
    throw new DownloadError('BAD_INPUT', `${repoLabel}:${quant} matches several files (${shown}): name the file with hf:${repoLabel}/<file.gguf>`);
  }
  const firstParts = matching.filter((e) => splitPattern.exec(e.path)?.[1] === '00001');
  if (firstParts.length > 0) {
    const m = splitPattern.exec(firstParts[0]!.path);
    throw new DownloadError('BAD_INPUT', `${repoLabel}${quant !== null ? `:${quant}` : ''} is split into ${Number(m?.[2])} files (${firstParts[0]!.path}); split models cannot be pulled yet`);
  }
  if (quant === null) throw new DownloadError('NOT_FOUND', `${repoLabel}: no .gguf file in the repo`);
  throw new DownloadError('NOT_FOUND', `${repoLabel}: no .gguf file with quantization ${quant} (${listed})`);
}

// ---------------------------------------------------------------------------------------------
// File metadata
// ---------------------------------------------------------------------------------------------

/** What is known about a remote file before downloading it. Sizes in bytes. */
export interface RemoteFileInfo {
  /** The URL that was asked (a Hub resolve URL or the plain URL). */
  url: string;
  /** Where the bytes are, after redirects (a CDN URL for the Hub; may expire, so re-resolve later). */
  downloadUrl: string;
  /** Size of the file; null when the server does not say. */
  sizeBytes: number | null;
  /** Lower-case hex sha256 of the content (the Hub's `X-Linked-Etag` or tree `lfs.oid`); null when unknown. */
  sha256: string | null;
  /** Identity of the remote version: the `X-Linked-Etag`, else the final response's `ETag`, else `Last-Modified`. */
  etag: string | null;
  /** A strong validator of `downloadUrl` for `If-Range` (its strong `ETag` or `Last-Modified`); null when none. */
  ifRange: string | null;
  /** Whether the server said `Accept-Ranges: bytes` (a resume is still tried when it did not). */
  acceptRanges: boolean;
}

function normalizeEtag(value: string | null): string | null {
  if (value === null) return null;
  const v = value.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return v === '' ? null : v;
}

function parseSize(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/** The total of a `Content-Range: bytes a-b/total` header; null when absent or `*`. */
export function contentRangeTotal(value: string | null): number | null {
  const m = value === null ? null : /\/\s*(\d+)\s*$/.exec(value);
  return m ? parseSize(m[1] ?? null) : null;
}

/**
 * Metadata of the file at `url` (see the module comment): HEAD without following redirects, reading
 * `X-Linked-Etag` / `X-Linked-Size` from the Hub's redirect, then the final response's `Content-Length`,
 * `ETag`, `Last-Modified`, `Accept-Ranges`. Retries network errors and 429/5xx a few times.
 *
 * @param what Label for messages (`hf:org/repo/file.gguf`).
 * @throws DownloadError `NOT_FOUND`, `AUTH`, `NETWORK`; the signal's reason when aborted.
 */
export async function probeRemoteFile(url: string, what: string, config: HubConfig, signal?: AbortSignal): Promise<RemoteFileInfo> {
  return withRetries(async () => {
    let followed = await fetchFollowingRedirects(url, { method: 'HEAD', stopAtLinkedRedirect: true, ...(signal ? { signal } : {}) }, config);
    if (followed.stoppedAtRedirect) {
      // The Hub's redirect of an LFS file: its headers say everything; the CDN is asked only for the bytes.
      const h = followed.response.headers;
      const linkedEtag = normalizeEtag(h.get('x-linked-etag'));
      return {
        url,
        downloadUrl: followed.url,
        sizeBytes: parseSize(h.get('x-linked-size')),
        sha256: linkedEtag !== null && /^[0-9a-f]{64}$/i.test(linkedEtag) ? linkedEtag.toLowerCase() : null,
        etag: linkedEtag,
        ifRange: null,
        acceptRanges: true,
      };
    }
    let rangeTotal: number | null = null;
    if ([403, 405, 501].includes(followed.response.status) && !sameHost(followed.url, config.endpoint)) {
      // HEAD refused (presigned GET-only URLs, servers without HEAD): ask for the first byte instead.
      await followed.response.body?.cancel().catch(() => undefined);
      const redirects = followed.redirects;
      followed = await fetchFollowingRedirects(followed.url, { method: 'GET', headers: { Range: 'bytes=0-0' }, ...(signal ? { signal } : {}) }, config);
      followed.redirects.unshift(...redirects);
      rangeTotal = followed.response.status === 206 ? contentRangeTotal(followed.response.headers.get('content-range')) : null;
    }
    const { response, redirects } = followed;
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw httpStatusError(response, what, config);
    const all = [...redirects, response.headers];
    const first = (name: string) => all.map((h) => h.get(name)).find((v): v is string => v !== null) ?? null;
    const linkedEtag = normalizeEtag(first('x-linked-etag'));
    const linkedSize = parseSize(first('x-linked-size'));
    const length = response.status === 200 ? parseSize(response.headers.get('content-length')) : null;
    const rawEtag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    const strongEtag = rawEtag !== null && !rawEtag.trim().startsWith('W/') ? rawEtag.trim() : null;
    return {
      url,
      downloadUrl: followed.url,
      sizeBytes: linkedSize ?? rangeTotal ?? length,
      sha256: linkedEtag !== null && /^[0-9a-f]{64}$/i.test(linkedEtag) ? linkedEtag.toLowerCase() : null,
      etag: linkedEtag ?? normalizeEtag(rawEtag) ?? lastModified,
      ifRange: strongEtag ?? lastModified,
      acceptRanges: /\bbytes\b/i.test(response.headers.get('accept-ranges') ?? '') || response.status === 206,
    };
  }, signal);
}

/** A source resolved to one remote file. */
export interface ResolvedSource {
  /** The file: a Hub file (the quantization picked for `hf-quant`) or a plain URL. */
  source: HubFileSource | UrlSource;
  /** The canonical text of `source` (see {@link formatModelSource}). */
  canonical: string;
  /** The file's metadata. */
  remote: RemoteFileInfo;
}

/**
 * Resolves a parsed source to one remote file and its metadata: lists the tree for `hf:<org>/<repo>:<QUANT>`
 * and picks the file ({@link pickQuantizationFile}), then probes it ({@link probeRemoteFile}). The tree's
 * `lfs.oid`/`size` fill in what the probe did not give; when both give a sha256 and they differ, the probe's
 * (the file served now) wins.
 *
 * @throws DownloadError as {@link listHubFiles}, {@link pickQuantizationFile} and {@link probeRemoteFile}.
 */
export async function resolveModelSource(source: ModelSource, config: HubConfig, signal?: AbortSignal): Promise<ResolvedSource> {
  if (source.kind === 'url') {
    const remote = await probeRemoteFile(source.url, source.url, config, signal);
    return { source, canonical: formatModelSource(source), remote };
  }
  let file: HubFileSource;
  let treeEntry: HubTreeEntry | null = null;
  if (source.kind === 'hf-quant') {
    const label = `${source.owner}/${source.repo}`;
    treeEntry = pickQuantizationFile(await listHubFiles(source, config, signal), source.quant, label);
    file = { kind: 'hf-file', owner: source.owner, repo: source.repo, revision: source.revision, path: treeEntry.path };
  } else {
    file = source;
  }
  const canonical = formatModelSource(file);
  const remote = await probeRemoteFile(hubResolveUrl(config.endpoint, file), canonical, config, signal);
  const treeSha = treeEntry?.lfs?.oid && /^[0-9a-f]{64}$/i.test(treeEntry.lfs.oid) ? treeEntry.lfs.oid.toLowerCase() : null;
  return {
    source: file,
    canonical,
    remote: {
      ...remote,
      sha256: remote.sha256 ?? treeSha,
      sizeBytes: remote.sizeBytes ?? treeEntry?.lfs?.size ?? treeEntry?.size ?? null,
      etag: remote.etag ?? treeSha,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

/** Exponential backoff: `tries` attempts in all, waiting `initialDelayMs` × 2ⁿ (at most `maxDelayMs`) between. */
export interface RetryPolicy {
  tries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** 5 tries, 0.5 s → 1 → 2 → 4 → 8 s. */
export const DEFAULT_RETRY: RetryPolicy = { tries: 5, initialDelayMs: 500, maxDelayMs: 8000 };

/** Wait before retry number `failures` (1 = after the first failure), in ms. */
export function backoffDelayMs(failures: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn`, retrying `NETWORK` errors with {@link DEFAULT_RETRY} backoff (3 tries: metadata requests are cheap). */
async function withRetries<T>(fn: () => Promise<T>, signal?: AbortSignal, policy: RetryPolicy = { ...DEFAULT_RETRY, tries: 3 }): Promise<T> {
  for (let failures = 0; ; ) {
    try {
      return await fn();
    } catch (error) {
      failures++;
      if (signal?.aborted || !(error instanceof DownloadError) || error.code !== 'NETWORK' || failures >= policy.tries) throw error;
      await sleep(backoffDelayMs(failures, policy), signal);
    }
  }
}
