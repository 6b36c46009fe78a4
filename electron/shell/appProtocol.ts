/**
 * The `app://wattwise/` scheme that serves the built renderer (`dist/renderer`) to the Electron window, in
 * place of `file://`. Pure: no `electron` import, so it runs (and is unit-tested) in plain Node; the shell
 * (`main.ts`) registers {@link appSchemePrivileges} with `protocol.registerSchemesAsPrivileged` before the
 * app is ready and passes requests from `protocol.handle` to {@link serveAppRequest}.
 *
 * Why: Electron's security checklist, "Avoid usage of the file:// protocol and prefer usage of custom
 * protocols" (https://www.electronjs.org/docs/latest/tutorial/security#18-avoid-usage-of-the-file-protocol-and-prefer-usage-of-custom-protocols):
 * a `file://` page may read any file the user can, and the `grantFileProtocolExtraPrivileges` fuse (turned
 * off at packaging, see electron-builder.yml) only removes Electron's extra `file://` powers once nothing is
 * loaded from `file://` any more. A custom scheme serves exactly the renderer build folder and nothing else.
 *
 * Defences, as in the browser mode's static server (`electron/server/httpServer.ts`): GET/HEAD only; the
 * URL must name this scheme and host; the decoded path may not contain NUL, a backslash or a `..` segment
 * (including percent-encoded ones) and must resolve inside the build folder; only regular files are served,
 * with their MIME type from a fixed table (unknown → `application/octet-stream`) and `nosniff`; HTML carries
 * the same Content-Security-Policy header as the browser mode ({@link contentSecurityPolicy}).
 * Symbolic links inside the build folder are followed: the folder is the app's own build output (inside
 * `app.asar` when packaged, guarded by the asar integrity fuse), not something a URL can create.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { contentSecurityPolicy } from '../server/httpServer.js';

/** The scheme (no colon). */
export const appScheme = 'app';
/** The one host the scheme answers for. A `standard` scheme needs a host; it also makes the origin. */
export const appHost = 'wattwise';
/** The renderer's origin as Chromium sees it (`app://wattwise`). */
export const appOrigin = `${appScheme}://${appHost}`;
/** The URL the window loads. */
export const appEntryUrl = `${appOrigin}/index.html`;

/**
 * Privileges for `protocol.registerSchemesAsPrivileged` (https://www.electronjs.org/docs/latest/api/protocol#protocolregisterschemesasprivilegedcustomschemes):
 * - `standard`: URLs resolve like http(s) (relative asset URLs, an origin, web storage);
 * - `secure`: a secure context, like https (the clipboard API and other secure-context features work);
 * - `supportFetchAPI` and `corsEnabled`: Vite's `<script type="module" crossorigin>` and `<link crossorigin>`
 *   load the bundle in CORS mode, which Chromium refuses for schemes without these (same-origin only: the
 *   responses carry no `Access-Control-Allow-Origin`, so no other origin can read them);
 * - `codeCache`: V8 may cache the compiled bundle (needs `standard`).
 * Not granted: `bypassCSP` (the page keeps its CSP), `allowServiceWorkers`, `stream`.
 */
export const appSchemePrivileges = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  codeCache: true,
} as const;

/** MIME types of what the renderer build contains (Vite output: HTML, JS, CSS, SVG/PNG, fonts, JSON). */
export const appMimeTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where a request goes: a file inside the build folder, or an error status and why. */
export type AppRequestTarget =
  | { ok: true; filePath: string; contentType: string }
  | { ok: false; status: 400 | 403 | 404 | 405; reason: string };

/**
 * Maps a request to a file inside `rootDir` without touching the disk (see {@link serveAppRequest} for
 * the existence check). `/` means `/index.html`; the query and fragment are ignored.
 */
export function resolveAppRequest(rawUrl: string, method: string, rootDir: string): AppRequestTarget {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405, reason: 'Method not allowed' };
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, status: 400, reason: 'Malformed URL' };
  }
  if (url.protocol !== `${appScheme}:` || url.host !== appHost || url.username !== '' || url.password !== '') {
    return { ok: false, status: 404, reason: 'Not an app URL' };
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'Malformed percent-encoding' };
  }
  if (path.includes('\0')) return { ok: false, status: 400, reason: 'NUL in path' };
  // A backslash is a separator on Windows; no asset name contains one.
  if (path.includes('\\')) return { ok: false, status: 400, reason: 'Backslash in path' };
  const segments = path.split('/');
  if (segments.some((s) => s === '..')) return { ok: false, status: 403, reason: 'Path leaves the app folder' };
  if (path === '' || path === '/') path = '/index.html';
  const root = resolve(rootDir);
  const filePath = resolve(root, `.${path}`);
  if (!filePath.startsWith(root + sep)) return { ok: false, status: 403, reason: 'Path leaves the app folder' };
  const contentType = appMimeTypes[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
  return { ok: true, filePath, contentType };
}

/** Headers on every answer (as the browser mode sends them). */
function baseHeaders(): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** The part of a Fetch `Request` that {@link serveAppRequest} reads (Electron's `GlobalRequest` fits). */
export interface AppRequestLike {
  url: string;
  method: string;
}

/**
 * Answers one `protocol.handle` request: the file's bytes with its MIME type (and the CSP header on HTML),
 * or a plain-text 400/403/404/405. Never throws.
 */
export async function serveAppRequest(request: AppRequestLike, rootDir: string): Promise<Response> {
  const target = resolveAppRequest(request.url, request.method, rootDir);
  if (!target.ok) {
    const headers: Record<string, string> = { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' };
    if (target.status === 405) headers.Allow = 'GET, HEAD';
    return new Response(target.reason, { status: target.status, headers });
  }
  let body: Buffer;
  try {
    const info = await stat(target.filePath);
    if (!info.isFile()) throw new Error('not a regular file');
    body = await readFile(target.filePath);
  } catch {
    return new Response('Not found', { status: 404, headers: { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' } });
  }
  const headers: Record<string, string> = {
    ...baseHeaders(),
    'Content-Type': target.contentType,
    'Content-Length': String(body.length),
    'Cache-Control': 'no-cache',
  };
  // The browser mode's policy, by reference: electronegativity cannot read a constant's value and asks for
  // a review ("Failed to parse CSP", LOW); the policy itself is checked in httpServer.ts and its tests.
  if (target.contentType.startsWith('text/html')) headers['Content-Security-Policy'] = contentSecurityPolicy; /* eng-disable CSP_GLOBAL_CHECK */
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}
