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
 * Defences (./defences.ts, shared with the OpenAI-compatible API): listens on 127.0.0.1 only unless told
 * otherwise; every request's `Host` must name the server's own loopback address and port (DNS rebinding,
 * as in Ollama's CVE-2024-28224); a present `Origin` must be the server's own; no CORS headers at all, so
 * other sites' pages cannot read responses; API calls need the random token, compared in constant time;
 * bodies are size-limited; static paths cannot leave the build folder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ApiResult } from '../../shared/contract.js';
import { maxArchiveTextChars } from '../../shared/dataContract.js';
import type { Backend } from '../core/backend.js';
import { allowedHosts, bearerMatches, checkRequest, eventStreamHeaders, isJsonRequest, isRefusal, readBody, sendJson, setSecurityHeaders } from './defences.js';

/** Largest accepted request body, in bytes (1 MiB: a long pasted prompt fits, a flood does not). */
export const maxBodyBytes = 1024 * 1024;
/**
 * Largest body of a `history.import` call, in bytes: an archive of up to `maxArchiveTextChars` characters, JSON-encoded
 * inside the call (UTF-8 and escapes take up to about 3 bytes a character).
 */
export const maxImportBodyBytes = 3 * maxArchiveTextChars;
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    const checked = checkRequest(req, allowedHosts(host, port));
    if (isRefusal(checked)) {
      sendResult(res, checked.status, { ok: false, error: { code: checked.status === 400 ? 'BAD_INPUT' : 'UNAUTHORIZED', message: checked.message } });
      return;
    }
    const { url } = checked;

    if (url.pathname.startsWith('/api/')) {
      if (!bearerMatches(req, token)) {
        sendResult(res, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'Missing or wrong access token' } });
        return;
      }
      if (url.pathname === '/api/events' && req.method === 'GET') return openEventStream(req, res);
      const match = /^\/api\/call\/([A-Za-z.]+)$/.exec(url.pathname);
      if (match && req.method === 'POST') {
        if (!isJsonRequest(req)) {
          sendResult(res, 415, { ok: false, error: { code: 'BAD_INPUT', message: 'Content-Type must be application/json' } });
          return;
        }
        const limit = match[1] === 'history.import' ? maxImportBodyBytes : maxBodyBytes;
        const body = await readBody(req, limit);
        if (body === null) {
          sendResult(res, 413, { ok: false, error: { code: 'BAD_INPUT', message: `Request body over ${limit} bytes` } });
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
    res.writeHead(200, eventStreamHeaders);
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

function sendResult(res: ServerResponse, status: number, result: ApiResult<unknown>): void {
  sendJson(res, status, result);
}
