/**
 * The browser-mode transport's defences and protocol, against a real backend (real SQLite file) over a
 * scripted engine, with raw HTTP requests so Host, Origin and paths are exactly what an attacker sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHttpServer, maxBodyBytes, type RunningHttpServer } from '../../electron/server/httpServer.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import type { Backend } from '../../electron/core/backend.js';
import { openTestBackend, tempDir } from '../helpers/runtime.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(server: RunningHttpServer, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: options.path, headers: { Host: `127.0.0.1:${server.port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

describe('HTTP transport', () => {
  const tmp = tempDir();
  let backend: Backend;
  let server: RunningHttpServer;
  const auth = () => ({ Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' });

  before(async () => {
    const staticDir = join(tmp.dir, 'static');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Wattwise</title>');
    writeFileSync(join(tmp.dir, 'secret.txt'), 'outside the static folder');
    backend = await openTestBackend({ dataDir: join(tmp.dir, 'data'), transport: 'http', engineFactory: () => new ScriptedEngine({ replies: ['Hello there.'] }) });
    server = await startHttpServer({ backend, staticDir });
  });
  after(async () => {
    await server.close();
    await backend.dispose();
    tmp.cleanup();
  });

  test('listens on loopback and prints a URL whose token is in the fragment', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{40,}$/);
  });

  test('serves the renderer with a strict CSP and no CORS', async () => {
    const res = await raw(server, { path: '/' });
    assert.equal(res.status, 200);
    assert.match(res.body, /<title>Wattwise<\/title>/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'.*script-src 'self'/);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  test('rejects a foreign Host header (DNS rebinding)', async () => {
    const res = await raw(server, { path: '/', headers: { Host: `attacker.example:${server.port}` } });
    assert.equal(res.status, 421);
    const api = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...auth(), Host: 'attacker.example' }, body: '{}' });
    assert.equal(api.status, 421);
  });

  test('a request target that is not a URL (//[::1) is a 400, not a crash', async () => {
    for (const path of ['//[::1', '//[::1/api/call/app.info', '/%']) {
      const res = await raw(server, { path, headers: auth() });
      assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
      assert.notEqual(res.status, 500);
    }
    const bad = await raw(server, { path: '//[::1' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Bad request target/);
    // The server still answers.
    assert.equal((await raw(server, { path: '/' })).status, 200);
  });

  test('accepts localhost as Host', async () => {
    const res = await raw(server, { path: '/', headers: { Host: `localhost:${server.port}` } });
    assert.equal(res.status, 200);
  });

  test('API calls need the token', async () => {
    const none = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 401);
    assert.deepEqual(JSON.parse(none.body).error.code, 'UNAUTHORIZED');
    const wrong = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { Authorization: 'Bearer nope', 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(wrong.status, 401);
    const events = await raw(server, { path: '/api/events' });
    assert.equal(events.status, 401);
    const good = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: auth(), body: '{}' });
    assert.equal(good.status, 200);
    const result = JSON.parse(good.body);
    assert.equal(result.ok, true);
    assert.equal(result.value.transport, 'http');
  });

  test('rejects cross-origin requests and non-JSON bodies', async () => {
    const cross = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...auth(), Origin: 'https://attacker.example' }, body: '{}' });
    assert.equal(cross.status, 403);
    const form = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...auth(), 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(form.status, 415);
    const same = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...auth(), Origin: `http://127.0.0.1:${server.port}` }, body: '{}' });
    assert.equal(same.status, 200);
  });

  test('limits the request body', async () => {
    const big = JSON.stringify({ conversationId: 'x', content: 'a'.repeat(maxBodyBytes + 10) });
    const res = await raw(server, { method: 'POST', path: '/api/call/chat.send', headers: auth(), body: big });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).error.code, 'BAD_INPUT');
  });

  test('validates methods and inputs', async () => {
    const unknown = await raw(server, { method: 'POST', path: '/api/call/fs.readFile', headers: auth(), body: '{}' });
    assert.equal(JSON.parse(unknown.body).error.code, 'BAD_INPUT');
    const bad = await raw(server, { method: 'POST', path: '/api/call/conversations.rename', headers: auth(), body: JSON.stringify({ id: 'x', title: '', extra: 1 }) });
    assert.equal(JSON.parse(bad.body).error.code, 'BAD_INPUT');
    const notJson = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: auth(), body: '{not json' });
    assert.equal(notJson.status, 400);
    const missing = await raw(server, { method: 'POST', path: '/api/call/conversations.get', headers: auth(), body: JSON.stringify({ id: 'nope' }) });
    assert.equal(JSON.parse(missing.body).error.code, 'NOT_FOUND');
  });

  test('static files cannot escape the build folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/index.html%00.js']) {
      const res = await raw(server, { path });
      assert.notEqual(res.status, 200, path);
      assert.doesNotMatch(res.body, /outside the static folder|root:/, path);
    }
  });

  test('streams events over SSE to an authorized client', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.origin}/api/events`, { headers: { Authorization: `Bearer ${server.token}` }, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const created = (await fetch(`${server.origin}/api/call/conversations.create`, { method: 'POST', headers: auth(), body: '{}' }).then((r) => r.json())) as { ok: boolean; value: { id: string } };
    assert.equal(created.ok, true);
    let buffer = '';
    while (!buffer.includes('conversations.changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value);
    }
    const dataLine = buffer.split('\n').find((l) => l.startsWith('data: ') && l.includes('conversations.changed'));
    assert.ok(dataLine, buffer);
    assert.equal(JSON.parse(dataLine.slice(6)).conversationId, created.value.id);
    controller.abort();
  });
});
