/**
 * The app:// scheme's request → file mapping (electron/shell/appProtocol.ts), which replaces `file://` for
 * the renderer: only files inside the renderer build folder, whatever the URL tries (traversal, encoded
 * `..`, NUL, backslashes, other hosts), with the right MIME type and the browser mode's CSP on HTML.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appEntryUrl,
  appOrigin,
  appSchemePrivileges,
  resolveAppRequest,
  serveAppRequest,
} from '../../../electron/shell/appProtocol.js';
import { contentSecurityPolicy } from '../../../electron/server/httpServer.js';

let base = '';
let root = '';

before(() => {
  base = mkdtempSync(join(tmpdir(), 'wattwise-app-protocol-'));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Wattwise</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, 'assets', 'font.woff2'), 'w');
  writeFileSync(join(root, 'assets', 'blob.xyz'), 'x');
  writeFileSync(join(root, 'a b.json'), '{}');
  // Outside the root: a secret beside it, and a sibling folder whose name starts with the root's name.
  writeFileSync(join(base, 'secret.txt'), 'secret');
  mkdirSync(join(base, 'renderer-evil'));
  writeFileSync(join(base, 'renderer-evil', 'x.js'), 'evil');
});

after(() => rmSync(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => serveAppRequest({ url, method }, root);

test('the entry page and assets are served with their MIME types; HTML carries the CSP header', async () => {
  const index = await get(appEntryUrl);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), contentSecurityPolicy);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await index.text(), '<!doctype html><title>Wattwise</title>');

  const slash = await get(`${appOrigin}/`);
  assert.equal(slash.status, 200);
  assert.equal(await slash.text(), '<!doctype html><title>Wattwise</title>');
  assert.equal((await get(appOrigin)).status, 200);

  const cases: Array<[string, string]> = [
    ['/assets/index-abc.js', 'text/javascript; charset=utf-8'],
    ['/assets/index-abc.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
    ['/assets/font.woff2', 'font/woff2'],
    ['/assets/blob.xyz', 'application/octet-stream'],
    ['/a%20b.json', 'application/json'],
    ['/assets/index-abc.js?v=1#frag', 'text/javascript; charset=utf-8'],
  ];
  for (const [path, type] of cases) {
    const res = await get(`${appOrigin}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), type, path);
    assert.equal(res.headers.get('content-security-policy'), null, `${path}: CSP only on HTML`);
    assert.ok(Number(res.headers.get('content-length')) > 0, path);
  }
  assert.equal(await (await get(`${appOrigin}/assets/index-abc.js`)).text(), 'console.log(1)');
});

test('HEAD answers headers without a body; other methods get 405', async () => {
  const head = await get(appEntryUrl, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const res = await get(appEntryUrl, method);
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  }
});

test('no URL reaches a file outside the renderer folder', async () => {
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/assets%5c..%5c..%5csecret.txt',
    '/%252e%252e/secret.txt',
    '/../renderer-evil/x.js',
    '/%2e%2e%2frenderer-evil/x.js',
    '/index.html%00.js',
    '/%00',
    '/%E0%A4%A',
    `/${encodeURIComponent(join(base, 'secret.txt'))}`,
    '//secret.txt',
  ];
  for (const path of attempts) {
    const res = await get(`${appOrigin}${path}`);
    assert.ok([400, 403, 404].includes(res.status), `${path} → ${res.status}`);
    const text = await res.text();
    assert.doesNotMatch(text, /secret|evil/, path);
  }
});

test('the mapping names the reason: NUL and bad encoding are 400, encoded .. is 403, other hosts 404', () => {
  const status = (url: string, method = 'GET') => {
    const r = resolveAppRequest(url, method, root);
    return r.ok ? 200 : r.status;
  };
  assert.equal(status(`${appOrigin}/index.html%00`), 400);
  assert.equal(status(`${appOrigin}/%E0%A4%A`), 400);
  assert.equal(status(`${appOrigin}/a%5cb`), 400);
  assert.equal(status(`${appOrigin}/%2e%2e%2fsecret.txt`), 403);
  assert.equal(status(`${appOrigin}/assets/..%2f..%2fsecret.txt`), 403);
  assert.equal(status('app://other/index.html'), 404);
  assert.equal(status('app://user:pw@wattwise/index.html'), 404);
  assert.equal(status('app://wattwise:8080/index.html'), 404);
  assert.equal(status('file:///etc/passwd'), 404);
  assert.equal(status('https://wattwise/index.html'), 404);
  assert.equal(status('not a url'), 400);
  assert.equal(status(appEntryUrl, 'POST'), 405);
  // Dot segments the URL parser resolves itself stay inside the root (and then are simply not found).
  const resolved = resolveAppRequest(`${appOrigin}/../../etc/passwd`, 'GET', root);
  assert.ok(resolved.ok && resolved.filePath === join(root, 'etc', 'passwd'));
});

test('folders and missing files are 404', async () => {
  for (const path of ['/assets', '/assets/', '/missing.js', '/assets/missing.css']) {
    const res = await get(`${appOrigin}${path}`);
    assert.equal(res.status, 404, path);
  }
});

test('the scheme is standard and secure with fetch/CORS for module scripts, and never bypasses the CSP', () => {
  const privileges: Record<string, boolean> = { ...appSchemePrivileges };
  assert.equal(privileges.standard, true);
  assert.equal(privileges.secure, true);
  assert.equal(privileges.supportFetchAPI, true);
  assert.equal(privileges.corsEnabled, true);
  assert.equal(privileges.bypassCSP, undefined);
  assert.equal(privileges.allowServiceWorkers, undefined);
});
