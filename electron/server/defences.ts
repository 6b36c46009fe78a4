/**
 * The defences every Wattwise HTTP server shares (the browser mode in ./httpServer.ts and the local
 * OpenAI-compatible API in ./openai/server.ts): one copy, so a fix reaches both.
 *
 * - Loopback only by default, and every request's `Host` must name the server's own loopback address and
 *   port: a page on another site cannot reach it through DNS rebinding (Ollama's CVE-2024-28224).
 * - A present `Origin` must be the server's own or one the user allowed; no CORS headers otherwise, so
 *   other sites' pages cannot read responses.
 * - Secrets (tokens, API keys) compared in constant time (`crypto.timingSafeEqual`).
 * - Bodies read with a size limit; request targets parsed inside the error handling (`//[::1` is a 400,
 *   not a TypeError).
 * - Headers against sniffing, framing and cross-origin reads on every response.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Sets the response headers every Wattwise server sends (no sniffing, no framing, no referrer, same-origin reads). */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

/**
 * The `Host` header values a server listening on `host`:`port` answers to: the loopback names
 * (`127.0.0.1`, `localhost`, `[::1]`) at that port, plus `host` itself when it is another interface.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const own = host !== '127.0.0.1' && host !== '0.0.0.0' && host !== '::' ? [`${host.includes(':') ? `[${host}]` : host}:${port}`] : [];
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...own]);
}

/** Why a request was refused before any route ran: the HTTP status and a one-line reason. */
export interface Refusal {
  status: 400 | 403 | 421;
  message: string;
}

/** What {@link checkRequest} lets through. */
export interface CheckedRequest {
  url: URL;
  /** The request's `Origin`, when present and allowed (echo it in CORS headers only when `cors` is true). */
  origin: string | null;
  /** True when `origin` is one of the extra allowed origins (not the server's own): the response needs CORS headers. */
  cors: boolean;
}

/**
 * The checks before routing: `Host` in `hosts` (else 421), a present `Origin` the server's own
 * (`http://<allowed host>`) or in `extraOrigins` (else 403), and a request target that parses (else 400).
 * Header values are compared lower-cased; `extraOrigins` must be lower-case origins (`scheme://host[:port]`).
 */
export function checkRequest(req: IncomingMessage, hosts: ReadonlySet<string>, extraOrigins: ReadonlySet<string> = new Set()): CheckedRequest | Refusal {
  if (!hosts.has((req.headers.host ?? '').toLowerCase())) return { status: 421, message: 'Host not allowed' };
  const rawOrigin = req.headers.origin;
  let origin: string | null = null;
  let cors = false;
  if (rawOrigin !== undefined) {
    origin = rawOrigin.toLowerCase();
    const own = [...hosts].some((h) => origin === `http://${h}`);
    cors = !own && extraOrigins.has(origin);
    if (!own && !cors) return { status: 403, message: 'Origin not allowed' };
  }
  try {
    return { url: new URL(req.url ?? '/', 'http://localhost'), origin, cors };
  } catch {
    return { status: 400, message: 'Bad request target' };
  }
}

/** True when `checkRequest`'s answer is a refusal. */
export function isRefusal(value: CheckedRequest | Refusal): value is Refusal {
  return 'status' in value;
}

/**
 * True when the request carries `Authorization: Bearer <secret>` with exactly `secret`, compared in
 * constant time (the length is not secret: all our tokens have a fixed length).
 */
export function bearerMatches(req: IncomingMessage, secret: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** True when the request's `Content-Type` is JSON (`application/json`, any parameters). */
export function isJsonRequest(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
}

/**
 * Reads the whole body as UTF-8; `null` if it exceeds `limitBytes` (declared by `Content-Length` or
 * counted as it arrives; the rest is then drained, not buffered).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) {
    req.resume();
    return Promise.resolve(null);
  }
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

/** Sends `body` as a JSON response with `status`, no caching. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Headers that start a server-sent event stream (no caching, no proxy buffering). */
export const eventStreamHeaders: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};
