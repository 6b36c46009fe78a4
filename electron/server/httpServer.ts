/**
 * The browser-mode transport: the API contract over HTTP + server-sent events, and the built renderer as
 * static files, on 127.0.0.1.
 *
 * Protocol (the renderer's `HttpBridge` speaks it):
 * - `POST /api/call/<method>`, `Authorization: Bearer <token>`, `Content-Type: application/json`, body =
 *   the method's input → `200` with an `ApiResult` JSON (API errors are `ok: false` values too);
 *   `401` bad token, `413` body over {@link maxBodyBytes}, `415` not JSON: each with an `ApiResult` body.
 * - `GET /api/events` with the same header → `text/event-stream` of `data: <ApiEvent JSON>` blocks, with a
 *   `: ping` comment every {@link heartbeatIntervalMs}.
 * - Anything else under `GET` → files from the renderer build (index.html for `/`).
 *
 * Defences: listens on 127.0.0.1 only unless told otherwise; every request's `Host` must name the
 * server's own loopback address and port (DNS rebinding, as in Ollama's CVE-2024-28224); a present `Origin`
 * must be the server's own; no CORS headers at all, so other sites' pages cannot read responses; API calls
 * need the random token, compared in constant time; bodies are size-limited; static paths cannot leave
 * the build folder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ApiResult } from '../../shared/contract.js';
import type { Backend } from '../core/backend.js';

/** Largest accepted request body, in bytes (1 MiB: a long pasted prompt fits, a flood does not). */
export const maxBodyBytes = 1024 * 1024;
/** Interval between SSE heartbeat comments, in ms (keeps proxies and the client's stall detector happy). */
export const heartbeatIntervalMs = 15_000;

/** Content-Security-Policy sent with every page (same as the meta tag in renderer/index.html). */
export const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  backend: Backend;
  /** Folder with the built renderer (`dist/renderer`). */
  staticDir: string;
  /** Interface to listen on. Defaults to `127.0.0.1`. */
  host?: string;
  /** TCP port; `0` picks a free one. Defaults to 0. */
  port?: number;
  /** Access token; defaults to 32 random bytes, base64url. */
  token?: string;
}

/** A running server. */
export interface RunningHttpServer {
  /** The URL to open, token included in the fragment (never sent to the server by the browser). */
  url: string;
  /** Base URL without the token. */
  origin: string;
  port: number;
  token: string;
  /** Stops listening and ends open event streams. */
  close(): Promise<void>;
}

/**
 * Starts the browser-mode server.
 * @throws when the port is taken (`EADDRINUSE`) or the static folder has no `index.html`.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = resolve(options.staticDir);
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error(`The renderer is not built: ${join(staticDir, 'index.html')} is missing (run npm run build:renderer)`);
  }
  const streams = new Set<ServerResponse>();
  let port = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendResult(res, 500, { ok: false, error: { code: 'INTERNAL', message: String(error) } });
      else res.destroy();
    });
  });

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...(host !== '127.0.0.1' && host !== '0.0.0.0' ? [`${host}:${port}`] : [])]);
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');

    if (!allowedHosts().has((req.headers.host ?? '').toLowerCase())) {
      sendResult(res, 421, { ok: false, error: { code: 'UNAUTHORIZED', message: 'Host not allowed' } });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin.toLowerCase())) {
      sendResult(res, 403, { ok: false, error: { code: 'UNAUTHORIZED', message: 'Origin not allowed' } });
      return;
    }
    // A request target such as `//[::1` is not a valid URL: refuse it rather than fail with a TypeError.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendResult(res, 400, { ok: false, error: { code: 'BAD_INPUT', message: 'Bad request target' } });
      return;
    }

    if (url.pathname.startsWith('/api/')) {
      if (!authorized(req, token)) {
        sendResult(res, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'Missing or wrong access token' } });
        return;
      }
      if (url.pathname === '/api/events' && req.method === 'GET') return openEventStream(req, res);
      const match = /^\/api\/call\/([A-Za-z.]+)$/.exec(url.pathname);
      if (match && req.method === 'POST') {
        if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
          sendResult(res, 415, { ok: false, error: { code: 'BAD_INPUT', message: 'Content-Type must be application/json' } });
          return;
        }
        const body = await readBody(req, maxBodyBytes);
        if (body === null) {
          sendResult(res, 413, { ok: false, error: { code: 'BAD_INPUT', message: `Request body over ${maxBodyBytes} bytes` } });
          req.resume();
          return;
        }
        let input: unknown;
        try {
          input = body.length === 0 ? {} : JSON.parse(body);
        } catch {
          sendResult(res, 400, { ok: false, error: { code: 'BAD_INPUT', message: 'Body is not valid JSON' } });
          return;
        }
        sendResult(res, 200, await options.backend.call(match[1], input));
        return;
      }
      sendResult(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'No such API route' } });
      return;
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    serveStatic(url.pathname, req, res);
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': connected\n\n');
    streams.add(res);
    const unsubscribe = options.backend.onEvent((event) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatIntervalMs);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }

  function serveStatic(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (relative.includes('\0')) {
      res.writeHead(400).end();
      return;
    }
    if (relative === '/' || relative === '') relative = '/index.html';
    const filePath = normalize(join(staticDir, relative));
    if (!filePath.startsWith(staticDir + sep)) {
      res.writeHead(404).end();
      return;
    }
    let size: number;
    try {
      const stat = statSync(filePath);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    const ext = extname(filePath).toLowerCase();
    const headers: Record<string, string | number> = {
      'Content-Type': mimeTypes[ext] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': ext === '.html' ? 'no-store' : 'public, max-age=31536000, immutable',
    };
    if (ext === '.html') headers['Content-Security-Policy'] = contentSecurityPolicy; /* eng-disable CSP_GLOBAL_CHECK: the strict policy above, the tool cannot read a constant */
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(filePath).pipe(res);
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const originUrl = `http://${displayHost}:${port}`;
  return {
    url: `${originUrl}/#token=${token}`,
    origin: originUrl,
    port,
    token,
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const s of streams) s.end();
        streams.clear();
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Reads the whole body as UTF-8; `null` if it exceeds `limitBytes`. */
function readBody(req: IncomingMessage, limitBytes: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) return Promise.resolve(null);
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      total += chunk.length;
      if (total > limitBytes) {
        over = true;
        resolvePromise(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolvePromise(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function sendResult(res: ServerResponse, status: number, result: ApiResult<unknown>): void {
  const body = JSON.stringify(result);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
