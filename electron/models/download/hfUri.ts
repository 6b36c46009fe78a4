/**
 * What the user typed for `wattwise models pull` (or the Downloads panel), parsed into one of three sources,
 * plus the error type every module of the downloader throws.
 *
 * Accepted inputs (node-llama-cpp's model URI conventions, `parseModelUri` in node-llama-cpp 3.22, where they
 * exist; huggingface_hub's `HfFileSystem` `@revision` form as well):
 *
 * | Input                                                   | Source                                        |
 * |---------------------------------------------------------|-----------------------------------------------|
 * | `hf:<org>/<repo>/<path/to/file.gguf>`                   | one file of a Hub repo, revision `main`       |
 * | `hf:<org>/<repo>/<path/to/file.gguf>#<revision>`        | same, at a branch, tag or commit (node-llama-cpp) |
 * | `hf:<org>/<repo>@<revision>/<path/to/file.gguf>`        | same (huggingface_hub `hf://` paths); a `/` in the revision is written `%2F` |
 * | `hf:<org>/<repo>:<QUANT>` (`#rev` / `@rev` as above)    | the repo's `.gguf` with that quantization, picked from the file tree |
 * | `hf:<org>/<repo>`                                       | the repo's only single-file `.gguf` (an error lists the choices otherwise) |
 * | `https://<hub>/<org>/<repo>/resolve/<rev>/<file.gguf>`  | a Hub file (`/blob/` is read as `/resolve/`), when `<hub>` is the endpoint's host, `huggingface.co` or `hf.co` |
 * | `https://…/<name>.gguf` (any host)                      | a plain URL; `http://` only for `127.0.0.1`, `localhost` or `[::1]` |
 *
 * `hf://`, `huggingface:`, `huggingface://`, `hf.co/` and `huggingface.co/` are accepted for `hf:` like
 * node-llama-cpp does. Organization and repo names follow the Hub's rule (letters, digits, `-`, `_`, `.`; not
 * starting with `-` or `.`; at most 96 characters), so they are safe as folder names. File paths must end in
 * `.gguf` (any case) and may not contain empty, `.` or `..` segments or backslashes.
 *
 * Nothing here touches the network or the disk.
 */

/**
 * The closed set of error codes of the downloader, one per thing a user can act on:
 * - `BAD_INPUT`: the URI/URL cannot be used (syntax, not a `.gguf`, plain http to a remote host, a split model,
 *   an ambiguous or unknown quantization, the server sent something that is not a GGUF file);
 * - `NOT_FOUND`: the repo, revision or file does not exist (HTTP 404, or the Hub's 401 "repository not found");
 * - `AUTH`: the server refused access (HTTP 401/403: a gated or private repo; set `HF_TOKEN`);
 * - `NETWORK`: the server could not be reached or kept failing after the retries, or answered nonsense;
 * - `DISK_FULL`: not enough free space for the rest of the file plus a margin (checked before downloading),
 *   or the disk filled up while writing;
 * - `CORRUPT`: the downloaded bytes do not match the expected size or sha256;
 * - `EXISTS`: a different file is already at the destination (it is never overwritten);
 * - `BUSY`: another download of the same destination is running (another process or this one);
 * - `IO`: a local file operation failed (permission denied, read-only folder...);
 * - `ABORTED`: paused or cancelled by the caller.
 */
export type DownloadErrorCode =
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'AUTH'
  | 'NETWORK'
  | 'DISK_FULL'
  | 'CORRUPT'
  | 'EXISTS'
  | 'BUSY'
  | 'IO'
  | 'ABORTED';

/** Every error the downloader throws: a {@link DownloadErrorCode} and a one-line `message` shown as is. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  /**
   * @param code What went wrong, from the closed set.
   * @param message One line (newlines are replaced by spaces), no trailing period.
   * @param options `cause`: the underlying error, kept for logs.
   */
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message.replace(/\s*\n\s*/g, ' '), options);
  }
}

/** The Hub's default endpoint (huggingface_hub `constants.ENDPOINT`). */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** The default revision of Hub repos. */
export const DEFAULT_REVISION = 'main';

/** One file of a Hub repo. */
export interface HubFileSource {
  kind: 'hf-file';
  /** Organization or user name, e.g. `bartowski`. */
  owner: string;
  /** Repo name, e.g. `Llama-3.2-1B-Instruct-GGUF`. */
  repo: string;
  /** Branch, tag or commit; {@link DEFAULT_REVISION} when none was given. */
  revision: string;
  /** Path of the file inside the repo, `/`-separated, not URL-encoded, e.g. `Q4_K_M/model-Q4_K_M.gguf`. */
  path: string;
}

/** A Hub repo and a quantization to pick from its file tree (`hf:<org>/<repo>:<QUANT>`). */
export interface HubQuantSource {
  kind: 'hf-quant';
  owner: string;
  repo: string;
  revision: string;
  /** The quantization as typed, upper-cased (`Q4_K_M`); null for `hf:<org>/<repo>` (pick the only one). */
  quant: string | null;
}

/** A plain http(s) URL of a `.gguf` file on any server. */
export interface UrlSource {
  kind: 'url';
  /** The URL, normalized by `new URL()`. */
  url: string;
  /** The file name taken from the URL's last path segment, decoded and made safe for a file system. */
  fileName: string;
}

/** A parsed download source. */
export type ModelSource = HubFileSource | HubQuantSource | UrlSource;

/**
 * The Hub endpoint in effect: `HF_ENDPOINT` when set (huggingface_hub's environment variable, also read by
 * llama.cpp and node-llama-cpp; huggingface_hub docs "Environment variables"), else `https://huggingface.co`.
 * No trailing slash.
 *
 * @throws DownloadError `BAD_INPUT` when `HF_ENDPOINT` is not an http(s) URL, or is plain http to a host other
 *   than 127.0.0.1 / localhost / [::1].
 */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.HF_ENDPOINT?.trim();
  if (!raw) return DEFAULT_HF_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError('BAD_INPUT', `HF_ENDPOINT is not a URL: "${raw}"`);
  }
  checkScheme(url, 'HF_ENDPOINT');
  return url.href.replace(/\/+$/, '');
}

/** True for the loopback host names plain `http://` is allowed to. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}

function checkScheme(url: URL, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  if (url.protocol === 'http:') {
    throw new DownloadError('BAD_INPUT', `${what}: plain http is only allowed to 127.0.0.1/localhost, use https: ${url.href}`);
  }
  throw new DownloadError('BAD_INPUT', `${what}: only http(s) URLs are supported, got "${url.protocol}"`);
}

/** Hub organization/user and repo names (huggingface_hub `validate_repo_id`: `[\w\-.]{1,96}`, no `--`/`..`). */
const repoNamePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$/;

function checkRepoName(part: string, what: string, input: string): void {
  if (!repoNamePattern.test(part) || part.includes('..') || part.includes('--') || /[.-]$/.test(part)) {
    throw new DownloadError('BAD_INPUT', `not a valid Hugging Face ${what} name "${part}" in "${input}"`);
  }
}

function checkFilePath(path: string, input: string): void {
  if (path === '') throw new DownloadError('BAD_INPUT', `no file path in "${input}"`);
  if (path.includes('\\') || path.includes('\0')) throw new DownloadError('BAD_INPUT', `bad characters in the file path of "${input}"`);
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new DownloadError('BAD_INPUT', `bad file path "${path}" in "${input}"`);
  }
  if (!/\.gguf$/i.test(path)) throw new DownloadError('BAD_INPUT', `not a .gguf file: "${path}" (only GGUF models can be pulled)`);
}

function decodeSegment(segment: string, input: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DownloadError('BAD_INPUT', `bad percent-encoding in "${input}"`);
  }
}

/**
 * A file name safe on Linux, macOS and Windows: control characters and `<>:"/\|?*` become `_`, leading dots
 * and trailing dots/spaces are dropped.
 */
export function safeFileName(name: string): string {
  return name.replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_').replace(/^\.+/, '').replace(/[. ]+$/, '');
}

const hfPrefixes = ['hf://', 'huggingface://', 'hf:', 'huggingface:', 'hf.co/', 'huggingface.co/'];

/**
 * Parses a pull source (see the module comment for the accepted forms).
 *
 * @param input What the user typed; surrounding whitespace is ignored.
 * @param options `endpoint`: the Hub endpoint in effect (default {@link hubEndpoint}()), so that URLs on a
 *   mirror set with `HF_ENDPOINT` are read as Hub URLs.
 * @returns The source; never null.
 * @throws DownloadError `BAD_INPUT` with a one-line reason for anything else.
 */
export function parseModelSource(input: string, options: { endpoint?: string } = {}): ModelSource {
  const text = input.trim();
  if (text === '') throw new DownloadError('BAD_INPUT', 'no model given: pass hf:<org>/<repo>/<file.gguf>, hf:<org>/<repo>:<QUANT> or a URL');
  const prefix = hfPrefixes.find((p) => text.toLowerCase().startsWith(p));
  if (prefix !== undefined) return parseHfUri(text.slice(prefix.length), text);
  if (/^https?:\/\//i.test(text)) return parseUrl(text, options.endpoint ?? hubEndpoint());
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    throw new DownloadError('BAD_INPUT', `unsupported scheme in "${text}": use hf:<org>/<repo>/<file.gguf> or an https URL`);
  }
  throw new DownloadError('BAD_INPUT', `not a model URI or URL: "${text}" (expected hf:<org>/<repo>/<file.gguf>, hf:<org>/<repo>:<QUANT> or https://…/<file>.gguf)`);
}

function parseHfUri(rest: string, input: string): HubFileSource | HubQuantSource {
  // `#revision` at the end (node-llama-cpp); may contain slashes (`refs/pr/1`).
  let hashRevision: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    hashRevision = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    if (hashRevision === '') throw new DownloadError('BAD_INPUT', `empty revision after "#" in "${input}"`);
  }
  const [owner = '', repoPart = '', ...pathParts] = rest.split('/');
  if (owner === '' || repoPart === '') throw new DownloadError('BAD_INPUT', `expected hf:<org>/<repo>/<file.gguf> or hf:<org>/<repo>:<QUANT>, got "${input}"`);
  checkRepoName(owner, 'organization', input);

  // `repo@revision` (huggingface_hub HfFileSystem) and `repo:QUANT` (node-llama-cpp).
  let repo = repoPart;
  let quant: string | null = null;
  let atRevision: string | null = null;
  const colon = repo.indexOf(':');
  if (colon >= 0) {
    quant = repo.slice(colon + 1).trim();
    repo = repo.slice(0, colon);
    if (quant === '') throw new DownloadError('BAD_INPUT', `empty quantization after ":" in "${input}"`);
    if (!/^[A-Za-z0-9_.-]+$/.test(quant)) throw new DownloadError('BAD_INPUT', `not a quantization name: "${quant}" in "${input}"`);
  }
  const at = repo.indexOf('@');
  if (at >= 0) {
    atRevision = decodeSegment(repo.slice(at + 1), input);
    repo = repo.slice(0, at);
    if (atRevision === '') throw new DownloadError('BAD_INPUT', `empty revision after "@" in "${input}"`);
  }
  checkRepoName(repo, 'repo', input);
  if (hashRevision !== null && atRevision !== null) {
    throw new DownloadError('BAD_INPUT', `two revisions in "${input}": use either @<revision> or #<revision>`);
  }
  const revision = hashRevision ?? atRevision ?? DEFAULT_REVISION;
  if (/[\0\\]/.test(revision) || revision.split('/').some((s) => s === '' || s === '..')) {
    throw new DownloadError('BAD_INPUT', `bad revision "${revision}" in "${input}"`);
  }

  const path = pathParts.join('/');
  if (quant !== null && path !== '') {
    throw new DownloadError('BAD_INPUT', `give either a file path or a :<QUANT>, not both, in "${input}"`);
  }
  if (path === '') return { kind: 'hf-quant', owner, repo, revision, quant: quant === null ? null : quant.toUpperCase() };
  checkFilePath(path, input);
  return { kind: 'hf-file', owner, repo, revision, path };
}

function parseUrl(text: string, endpoint: string): HubFileSource | UrlSource {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DownloadError('BAD_INPUT', `not a valid URL: "${text}"`);
  }
  checkScheme(url, 'URL');
  if (url.username !== '' || url.password !== '') throw new DownloadError('BAD_INPUT', 'URLs with a user name or password are not supported (use HF_TOKEN for the Hub)');
  url.hash = '';

  let endpointHost: string | null = null;
  try {
    endpointHost = new URL(endpoint).host;
  } catch {
    endpointHost = null;
  }
  const isHubHost = url.host === endpointHost || url.hostname === 'huggingface.co' || url.hostname === 'hf.co';
  if (isHubHost) {
    // /<org>/<repo>/(resolve|blob)/<rev>/<path...>  (huggingface_hub `hf_hub_url`)
    const segments = url.pathname.split('/').slice(1);
    const [owner, repo, kind, revision, ...rest] = segments;
    if (owner !== undefined && repo !== undefined && (kind === 'resolve' || kind === 'blob') && revision !== undefined && rest.length > 0) {
      const decodedOwner = decodeSegment(owner, text);
      const decodedRepo = decodeSegment(repo, text);
      checkRepoName(decodedOwner, 'organization', text);
      checkRepoName(decodedRepo, 'repo', text);
      const decodedRevision = decodeSegment(revision, text);
      if (decodedRevision === '') throw new DownloadError('BAD_INPUT', `no revision in "${text}"`);
      const path = rest.map((s) => decodeSegment(s, text)).join('/');
      checkFilePath(path, text);
      return { kind: 'hf-file', owner: decodedOwner, repo: decodedRepo, revision: decodedRevision, path };
    }
    // Any other URL on the Hub host (a repo page, /api/...) is not a file.
    if (!/\.gguf$/i.test(url.pathname)) {
      throw new DownloadError('BAD_INPUT', `not a Hub file URL: "${text}" (expected https://<hub>/<org>/<repo>/resolve/<revision>/<file.gguf>, or hf:<org>/<repo>:<QUANT>)`);
    }
  }
  const last = url.pathname.split('/').pop() ?? '';
  const fileName = safeFileName(decodeSegment(last, text));
  if (!/\.gguf$/i.test(fileName) || fileName.length <= '.gguf'.length) {
    throw new DownloadError('BAD_INPUT', `the URL does not name a .gguf file: "${text}"`);
  }
  return { kind: 'url', url: url.href, fileName };
}

/** Percent-encodes each segment of a `/`-separated path. */
function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/**
 * The Hub's download URL of a file: `{endpoint}/{org}/{repo}/resolve/{revision}/{path}` (huggingface_hub
 * `hf_hub_url`); the revision is encoded as one segment (`refs%2Fpr%2F1`), like huggingface_hub does.
 */
export function hubResolveUrl(endpoint: string, source: Pick<HubFileSource, 'owner' | 'repo' | 'revision' | 'path'>): string {
  return `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(source.owner)}/${encodeURIComponent(source.repo)}/resolve/${encodeURIComponent(source.revision)}/${encodePath(source.path)}`;
}

/**
 * The canonical text of a source, as node-llama-cpp writes model URIs: `hf:<org>/<repo>/<path>` (+ `#<revision>`
 * when not `main`), `hf:<org>/<repo>:<QUANT>` (+ `#<revision>`), or the URL.
 */
export function formatModelSource(source: ModelSource): string {
  switch (source.kind) {
    case 'url':
      return source.url;
    case 'hf-file':
      return `hf:${source.owner}/${source.repo}/${source.path}${source.revision !== DEFAULT_REVISION ? `#${source.revision}` : ''}`;
    case 'hf-quant':
      return `hf:${source.owner}/${source.repo}${source.quant !== null ? `:${source.quant}` : ''}${source.revision !== DEFAULT_REVISION ? `#${source.revision}` : ''}`;
  }
}
