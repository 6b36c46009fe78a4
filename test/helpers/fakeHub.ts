/**
 * A loopback stand-in for the Hugging Face Hub (node:http on 127.0.0.1, any free port) and its CDN (a second
 * port, so a different host as far as URLs go, like the real CDN), close enough to the real ones for the
 * downloader:
 * - `GET /api/models/<org>/<repo>/tree/<rev>[?recursive=…]`: JSON list of `{ type, oid, size, path, lfs }`
 *   (`lfs.oid` is the sha256), 404 + `X-Error-Code: RepoNotFound` / `RevisionNotFound`;
 * - `HEAD|GET /<org>/<repo>/resolve/<rev>/<path>`: 302 to `<cdn endpoint>/cdn/<sha256>` with `X-Linked-Etag: "<sha256>"`,
 *   `X-Linked-Size`, `X-Repo-Commit`; 404 + `X-Error-Code: EntryNotFound` for a missing file;
 * - `HEAD|GET /cdn/<sha256>` (and any extra plain path added with {@link FakeHub.addPlain}): the bytes, with
 *   `Accept-Ranges: bytes`, `ETag`, `Content-Length`, and `Range: bytes=N-` / `N-M` answered with 206 +
 *   `Content-Range` (416 past the end).
 *
 * Knobs ({@link FakeHubKnobs}, changeable between requests): drop the connection after N body bytes (once or
 * every time), corrupt one byte, ignore `Range` (200 + the whole file), throttle, require a token. Every request
 * is recorded ({@link FakeHub.requests}) with its `Range` and `Authorization` headers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One file served by the fake Hub. */
export interface FakeHubFile {
  /** `org/repo`. */
  repo: string;
  /** Path inside the repo. */
  path: string;
  /** Content. */
  bytes: Buffer;
}

/** Behaviour switches; all off by default. */
export interface FakeHubKnobs {
  /** Destroy the socket after sending this many body bytes of a file response. */
  dropAfterBytes: number | null;
  /** `once`: only the first file response is cut; `always`: every one is. */
  dropMode: 'once' | 'always';
  /** Flip the bits of the byte at this offset of every file sent. */
  corruptByteAt: number | null;
  /** Answer ranged requests with 200 and the whole file. */
  ignoreRange: boolean;
  /** Send file bodies in `chunkBytes` pieces every `intervalMs`. */
  throttle: { chunkBytes: number; intervalMs: number } | null;
  /** When set, Hub routes (tree and resolve) answer 401 without `Authorization: Bearer <token>`. */
  requireToken: string | null;
}

/** A request the fake Hub received. */
export interface FakeHubRequest {
  method: string;
  /** `Host` header: tells the Hub port from the CDN port. */
  host: string | null;
  /** Path and query. */
  url: string;
  range: string | null;
  authorization: string | null;
}

const defaultKnobs = (): FakeHubKnobs => ({
  dropAfterBytes: null,
  dropMode: 'once',
  corruptByteAt: null,
  ignoreRange: false,
  throttle: null,
  requireToken: null,
});

/** The loopback Hub. Start with {@link FakeHub.start}, stop with {@link FakeHub.close}. */
export class FakeHub {
  /** Current knobs; assign fields freely between requests. */
  knobs: FakeHubKnobs = defaultKnobs();
  /** Every request, in arrival order. */
  readonly requests: FakeHubRequest[] = [];
  private drops = 0;
  private readonly files: (FakeHubFile & { sha256: string })[] = [];
  private readonly plain = new Map<string, Buffer>();
  private readonly server: Server;
  private readonly cdnServer: Server;
  /** `http://127.0.0.1:<port>` (use as `HF_ENDPOINT`). */
  endpoint = '';
  /** `http://127.0.0.1:<other port>`: where `resolve` redirects to. */
  cdnEndpoint = '';

  private constructor(files: FakeHubFile[]) {
    for (const f of files) this.addFile(f);
    this.server = createServer((req, res) => this.handle(req, res));
    this.cdnServer = createServer((req, res) => this.handle(req, res));
  }

  /** Starts a fake Hub serving `files`. */
  static async start(files: FakeHubFile[]): Promise<FakeHub> {
    const hub = new FakeHub(files);
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => hub.cdnServer.listen(0, '127.0.0.1', resolve));
    hub.endpoint = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
    hub.cdnEndpoint = `http://127.0.0.1:${(hub.cdnServer.address() as AddressInfo).port}`;
    return hub;
  }

  /** Adds (or replaces) a repo file. */
  addFile(file: FakeHubFile): void {
    const i = this.files.findIndex((f) => f.repo === file.repo && f.path === file.path);
    const entry = { ...file, sha256: sha256(file.bytes) };
    if (i >= 0) this.files[i] = entry;
    else this.files.push(entry);
  }

  /** Serves `bytes` at the plain path `path` (e.g. `/files/model.gguf`), with ranges; returns its URL. */
  addPlain(path: string, bytes: Buffer): string {
    this.plain.set(path, bytes);
    return `${this.endpoint}${path}`;
  }

  /** Resets knobs, request log and drop counter. */
  reset(): void {
    this.knobs = defaultKnobs();
    this.requests.length = 0;
    this.drops = 0;
  }

  /** Requests for file bytes (`GET /cdn/…` or a plain path), in order (both ports log here). */
  byteRequests(): FakeHubRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && (r.url.startsWith('/cdn/') || this.plain.has(r.url.split('?')[0]!)));
  }

  /** Stops the server (open connections are destroyed). */
  async close(): Promise<void> {
    for (const server of [this.server, this.cdnServer]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', host: header(req, 'host'), url: req.url ?? '', range: header(req, 'range'), authorization: header(req, 'authorization') });
    const path = decodeURIComponent(url.pathname);

    const tree = /^\/api\/models\/([^/]+)\/([^/]+)\/tree\/([^/]+)\/?$/.exec(url.pathname);
    const resolveMatch = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if ((tree || resolveMatch) && this.knobs.requireToken !== null && header(req, 'authorization') !== `Bearer ${this.knobs.requireToken}`) {
      res.writeHead(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to this repo is restricted' }).end();
      return;
    }
    if (tree) {
      const repo = `${decodeURIComponent(tree[1]!)}/${decodeURIComponent(tree[2]!)}`;
      const revision = decodeURIComponent(tree[3]!);
      const files = this.files.filter((f) => f.repo === repo);
      if (files.length === 0) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound', 'Content-Type': 'application/json' }).end('{"error":"Repository not found"}');
      if (revision !== 'main') return void res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end('{"error":"Invalid rev id"}');
      const dirs = new Set<string>();
      for (const f of files) {
        const parts = f.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      }
      const list = [
        ...[...dirs].map((d) => ({ type: 'directory', oid: 'd'.repeat(40), size: 0, path: d })),
        ...files.map((f) => ({ type: 'file', oid: sha1(f.bytes), size: f.bytes.length, path: f.path, lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } })),
        { type: 'file', oid: 'a'.repeat(40), size: 12, path: 'README.md' },
      ];
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(list));
      return;
    }
    if (resolveMatch) {
      const repo = `${decodeURIComponent(resolveMatch[1]!)}/${decodeURIComponent(resolveMatch[2]!)}`;
      const filePath = resolveMatch[4]!.split('/').map(decodeURIComponent).join('/');
      const repoFiles = this.files.filter((f) => f.repo === repo);
      if (repoFiles.length === 0) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end();
      const file = repoFiles.find((f) => f.path === filePath);
      if (!file) return void res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end();
      res
        .writeHead(302, {
          Location: `${this.cdnEndpoint}/cdn/${file.sha256}`,
          'X-Linked-Etag': `"${file.sha256}"`,
          'X-Linked-Size': String(file.bytes.length),
          'X-Repo-Commit': 'c'.repeat(40),
          ETag: `"${sha1(file.bytes)}"`,
        })
        .end();
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const bytes = cdn ? this.files.find((f) => f.sha256 === cdn[1])?.bytes : this.plain.get(path);
    if (!bytes) return void res.writeHead(404).end();
    this.serveBytes(req, res, bytes);
  }

  private serveBytes(req: IncomingMessage, res: ServerResponse, original: Buffer): void {
    const k = this.knobs;
    let bytes = original;
    if (k.corruptByteAt !== null && k.corruptByteAt < bytes.length) {
      bytes = Buffer.from(original);
      bytes[k.corruptByteAt] = bytes[k.corruptByteAt]! ^ 0xff;
    }
    const etag = `"${sha256(original)}"`;
    const common = { 'Accept-Ranges': 'bytes', ETag: etag, 'Content-Type': 'application/octet-stream' };
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const range = header(req, 'range');
    const m = range === null || k.ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(range);
    if (m) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(end, Number(m[2]));
      const ifRange = header(req, 'if-range');
      if (ifRange !== null && ifRange !== etag) {
        start = 0;
        end = bytes.length - 1;
      } else {
        if (start >= bytes.length) {
          res.writeHead(416, { ...common, 'Content-Range': `bytes */${bytes.length}` }).end();
          return;
        }
        status = 206;
      }
    }
    const body = bytes.subarray(start, end + 1);
    res.writeHead(status, {
      ...common,
      'Content-Length': String(body.length),
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();

    let limit = body.length;
    let drop = false;
    if (k.dropAfterBytes !== null && (k.dropMode === 'always' || this.drops === 0) && k.dropAfterBytes < body.length) {
      limit = k.dropAfterBytes;
      drop = true;
      this.drops++;
    }
    const finish = () => {
      if (drop) req.socket.destroy();
      else res.end();
    };
    if (k.throttle === null) {
      res.write(body.subarray(0, limit), () => finish());
      return;
    }
    const { chunkBytes, intervalMs } = k.throttle;
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || req.socket.destroyed) return void clearInterval(timer);
      const n = Math.min(chunkBytes, limit - sent);
      if (n > 0) res.write(body.subarray(sent, sent + n));
      sent += n;
      if (sent >= limit) {
        clearInterval(timer);
        finish();
      }
    }, intervalMs);
    res.on('close', () => clearInterval(timer));
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Reads a file into a Buffer (for serving the kit's models). */
export function readBytes(path: string): Buffer {
  return readFileSync(path);
}
