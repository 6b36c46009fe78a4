/**
 * The local OpenAI-compatible API (issue 9) on the team kit's real tiny models, real SQLite and the real
 * engine (CPU only), with the official `openai` npm package as the client (the one other tools use), and
 * curl-level checks with plain HTTP: defences, client disconnect, serialization with the app's chat, the
 * bounded queue, the energy history, the settings' on/off/port/key, and the `serve` command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import type { Backend } from '../../electron/core/backend.js';
import { MAX_WAITING_API_REQUESTS } from '../../electron/core/apiReplies.js';
import { startOpenAiServer, type RunningOpenAiServer } from '../../electron/server/openai/server.js';
import { ApiServerController } from '../../electron/server/openai/controller.js';
import { apiServerStatusSchema } from '../../shared/contract.js';
import { ok, openTestBackend, tempDir, waitForDone } from '../helpers/runtime.js';
import { repoRoot, testModel } from '../helpers/models.js';

const apiKey = 'test-key-0123456789abcdefghij';

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A plain HTTP request; resolves with status, headers and body text. */
function raw(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const auth = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };

describe('the OpenAI-compatible API', () => {
  let data: ReturnType<typeof tempDir>;
  let backend: Backend;
  let server: RunningOpenAiServer;
  let client: OpenAI;

  before(async () => {
    data = tempDir('wattwise-openai-');
    const models = join(data.dir, 'models');
    mkdirSync(models);
    copyFileSync(testModel('stories260K.gguf'), join(models, 'stories260K.gguf'));
    copyFileSync(testModel('TinyStories-656K-Q8_0.gguf'), join(models, 'TinyStories-656K-Q8_0.gguf'));
    backend = await openTestBackend({ dataDir: data.dir, modelsDirOverride: models, modelPathsAnywhere: false, overrides: { threads: 1 } });
    server = await startOpenAiServer({ backend, port: 0, apiKey, allowedOrigins: ['http://localhost:3000'] });
    client = new OpenAI({ apiKey, baseURL: server.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await server.close();
    await backend.dispose();
    data.cleanup();
  });

  test('models.list has "auto" and the installed models by id', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ['TinyStories-656K-Q8_0', 'auto', 'stories260K']);
    const one = await client.models.retrieve('stories260K');
    assert.equal(one.id, 'stories260K');
  });

  test('chat.completions.create: text, token counts and energy in usage; "auto" says why it chose', async () => {
    const completion = await client.chat.completions.create({
      model: 'auto',
      messages: [
        { role: 'system', content: 'You tell stories.' },
        { role: 'user', content: 'Once upon a time' },
      ],
      max_tokens: 12,
      temperature: 0,
    });
    assert.equal(completion.object, 'chat.completion');
    assert.ok(['stories260K', 'TinyStories-656K-Q8_0'].includes(completion.model), completion.model);
    const choice = completion.choices[0]!;
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(choice.message.content!.length > 0);
    assert.equal(choice.finish_reason, 'length');
    const usage = completion.usage as OpenAI.CompletionUsage & { energy_j: number; energy_j_per_token: number; energy_source: string; energy_measured: boolean };
    assert.equal(usage.completion_tokens, 12);
    assert.ok(usage.prompt_tokens > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.ok(usage.energy_j > 0, `energy_j ${usage.energy_j}`);
    assert.ok(Math.abs(usage.energy_j_per_token - usage.energy_j / 12) < 1e-9);
    assert.equal(typeof usage.energy_source, 'string');
    assert.equal(typeof usage.energy_measured, 'boolean');
    const wattwise = (completion as unknown as { wattwise: { chosen_by: string; profile: string; reason: string } }).wattwise;
    assert.equal(wattwise.chosen_by, 'governor');
    assert.ok(wattwise.reason.length > 0);
  });

  test('streamed: the chunks make the text, the last chunk has usage with energy', async () => {
    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_completion_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
      seed: 7,
    });
    let text = '';
    let finish: string | null = null;
    let usage: (OpenAI.CompletionUsage & { energy_j?: number }) | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, 'stories260K');
      const choice = chunk.choices[0];
      if (choice) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(chunks >= 3);
    assert.ok(text.length > 0);
    assert.equal(finish, 'length');
    assert.ok(usage);
    assert.equal(usage.completion_tokens, 10);
    assert.ok((usage.energy_j ?? 0) > 0);
  });

  test('completions.create continues a plain prompt; a stop string ends it before the string', async () => {
    const free = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 16, temperature: 0 });
    assert.equal(free.object, 'text_completion');
    const text = free.choices[0]!.text;
    assert.ok(text.length > 0);
    assert.equal(free.usage?.completion_tokens, 16);
    const word = text.split(/\s+/).filter((w) => /^[a-z]{3,}$/.test(w))[1];
    assert.ok(word, JSON.stringify(text));
    const stopped = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 16, temperature: 0, stop: [word] });
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.ok(!stopped.choices[0]!.text.includes(word));
  });

  test('a wrong key is an AuthenticationError (401)', async () => {
    const wrong = new OpenAI({ apiKey: 'not-the-key-0123456789', baseURL: server.baseUrl, maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    const none = await raw(server.port, { path: '/v1/models' });
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).error.code, 'invalid_api_key');
  });

  test('bad requests are BadRequestError (400) with an OpenAI-shaped body naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ model: 'auto', messages: [{ role: 'user', content: 'Hi' }], temperature: 'hot' }, 'temperature'],
      [{ model: 'auto', messages: [{ role: 'user', content: 'Hi' }], n: 2 }, 'n'],
      [{ model: 'auto', messages: [] }, 'messages'],
      [{ model: 'auto', messages: [{ role: 'assistant', content: 'Hi' }] }, 'messages[0].role'],
      [{ model: 'auto', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type'],
      [{ model: 'auto', messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
    ];
    for (const [body, param] of cases) {
      await assert.rejects(
        client.chat.completions.create(body as never),
        (e: unknown) => e instanceof OpenAI.BadRequestError && e.status === 400 && (e.error as { param: string }).param === param && typeof e.message === 'string',
        param,
      );
    }
    // Unknown fields are ignored, as OpenAI clients expect.
    const fine = await raw(server.port, { method: 'POST', path: '/v1/chat/completions', headers: auth, body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2, user: 'x', frequency_penalty: 0, some_future_field: { a: 1 } }) });
    assert.equal(fine.status, 200, fine.body);
    const notJson = await raw(server.port, { method: 'POST', path: '/v1/chat/completions', headers: auth, body: '{' });
    assert.equal(notJson.status, 400);
    assert.deepEqual(Object.keys(JSON.parse(notJson.body).error).sort(), ['code', 'message', 'param', 'type']);
  });

  test('an unknown model is a NotFoundError (404) naming the model', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
      (e: unknown) => e instanceof OpenAI.NotFoundError && (e.error as { code: string }).code === 'model_not_found',
    );
  });

  test('a foreign Host is refused (DNS rebinding); a foreign Origin too; an allowed Origin gets CORS', async () => {
    const rebinding = await raw(server.port, { path: '/v1/models', headers: { Host: `evil.example:${server.port}`, Authorization: `Bearer ${apiKey}` } });
    assert.equal(rebinding.status, 421);
    const foreign = await raw(server.port, { path: '/v1/models', headers: { Origin: 'https://evil.example', Authorization: `Bearer ${apiKey}` } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    const plain = await raw(server.port, { path: '/v1/models', headers: { Authorization: `Bearer ${apiKey}` } });
    assert.equal(plain.headers['access-control-allow-origin'], undefined, 'no CORS by default');
    const preflight = await raw(server.port, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://localhost:3000');
    const allowed = await raw(server.port, { path: '/v1/models', headers: { Origin: 'http://localhost:3000', Authorization: `Bearer ${apiKey}` } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], 'http://localhost:3000');
    const target = await raw(server.port, { path: '//[::1', headers: { Authorization: `Bearer ${apiKey}` } });
    assert.equal(target.status, 400);
    const big = await raw(server.port, { method: 'POST', path: '/v1/chat/completions', headers: auth, body: 'x'.repeat(9 * 1024 * 1024) });
    assert.equal(big.status, 413);
  });

  test('a client that disconnects mid-stream stops generation within a second; the engine is free for the next request', async () => {
    const firstChunk = new Promise<() => void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/chat/completions', headers: auth },
        (res) => {
          res.once('data', () => resolve(() => req.destroy()));
        },
      );
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 100_000, stream: true }));
      setTimeout(() => reject(new Error('no chunk')), 30_000);
    });
    const disconnect = await firstChunk;
    assert.equal(backend.apiReplies.status().active, 1);
    const at = Date.now();
    disconnect();
    while (backend.apiReplies.status().active > 0 && Date.now() - at < 5000) await new Promise((r) => setTimeout(r, 20));
    const ms = Date.now() - at;
    assert.ok(ms < 1000, `stopped after ${ms} ms`);
    assert.equal(backend.replySlot.busy, false);
    const next = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
    assert.equal(next.usage?.completion_tokens, 3);
    // The partial reply is stored as stopped in the day's API conversation.
    const summary = ok(await backend.request('energy.summary', {}));
    const api = summary.conversations.find((c) => c.source === 'api');
    assert.ok(api);
    const detail = ok(await backend.request('conversations.get', { id: api.conversationId }));
    const stopped = detail.messages.filter((m) => m.role === 'assistant' && m.status === 'stopped');
    assert.equal(stopped.length, 1, JSON.stringify(detail.messages.map((m) => [m.role, m.status])));
    assert.ok((stopped[0]!.stats?.completionTokens ?? 0) < 100_000);
  });

  test('two concurrent requests are served one after the other', async () => {
    const ask = () => client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 24 });
    const [a, b] = await Promise.all([ask(), ask()]);
    assert.equal(a.usage?.completion_tokens, 24);
    assert.equal(b.usage?.completion_tokens, 24);
    const api = ok(await backend.request('energy.summary', {})).conversations.find((c) => c.source === 'api')!;
    const replies = ok(await backend.request('conversations.get', { id: api.conversationId })).messages.filter((m) => m.role === 'assistant' && m.stats);
    const [x, y] = replies.slice(-2).map((m) => m.stats!);
    assert.ok(y!.startedAt >= x!.endedAt, `windows overlap: ${x!.startedAt}–${x!.endedAt} and ${y!.startedAt}–${y!.endedAt}`);
  });

  test('beyond the bounded queue: 429 with Retry-After; the waiting ones are served', async () => {
    const held = await backend.replySlot.acquire();
    const waiting = Array.from({ length: MAX_WAITING_API_REQUESTS }, () =>
      raw(server.port, { method: 'POST', path: '/v1/completions', headers: auth, body: JSON.stringify({ model: 'stories260K', prompt: 'Once', max_tokens: 2 }) }),
    );
    while (backend.replySlot.waiting < MAX_WAITING_API_REQUESTS) await new Promise((r) => setTimeout(r, 10));
    const refused = await raw(server.port, { method: 'POST', path: '/v1/completions', headers: auth, body: JSON.stringify({ model: 'stories260K', prompt: 'Once', max_tokens: 2 }) });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(JSON.parse(refused.body).error.type, 'rate_limit_error');
    await assert.rejects(
      client.completions.create({ model: 'stories260K', prompt: 'Once', max_tokens: 2 }),
      (e: unknown) => e instanceof OpenAI.RateLimitError,
    );
    held.release();
    const answers = await Promise.all(waiting);
    assert.deepEqual(answers.map((a) => a.status), Array<number>(MAX_WAITING_API_REQUESTS).fill(200));
  });

  test('an API request while the app writes a reply waits for it (never BUSY), and the app is not BUSY either', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    const started = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' }));
    const done = waitForDone(backend, () => started.requestId);
    const api = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
    assert.equal(api.usage?.completion_tokens, 4);
    const appDone = await done.promise;
    assert.equal(appDone.error, null);
    // The app's conversation is listed; the API's is not (it is in the Energy view).
    const listed = ok(await backend.request('conversations.list', {}));
    assert.ok(listed.some((c) => c.id === conversation.id));
    const energy = ok(await backend.request('energy.summary', {}));
    const apiRow = energy.conversations.find((c) => c.source === 'api')!;
    assert.ok(!listed.some((c) => c.id === apiRow.conversationId));
    assert.ok(apiRow.energyJ > 0);
    assert.match(apiRow.title, /^API requests · \d{4}-\d{2}-\d{2}$/);
  });

  test('with keepText off, API requests keep their tokens and energy but no text', async () => {
    const settings = ok(await backend.request('settings.get', {}));
    ok(await backend.request('settings.update', { api: { ...settings.api, keepText: false } }));
    try {
      const reply = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'A secret prompt' }], max_tokens: 4 });
      assert.ok(reply.choices[0]!.message.content!.length > 0, 'the client still gets the text');
      const api = ok(await backend.request('energy.summary', {})).conversations.find((c) => c.source === 'api')!;
      const messages = ok(await backend.request('conversations.get', { id: api.conversationId })).messages;
      const [user, assistant] = messages.slice(-2);
      assert.equal(user!.content, '');
      assert.equal(assistant!.content, '');
      assert.equal(assistant!.stats?.completionTokens, 4);
      assert.ok((assistant!.energy?.energyJ ?? 0) > 0);
    } finally {
      ok(await backend.request('settings.update', { api: { ...settings.api, keepText: true } }));
    }
  });
});

describe('the API server under the settings (Settings → Local API)', () => {
  let data: ReturnType<typeof tempDir>;
  let backend: Backend;

  before(async () => {
    data = tempDir('wattwise-openai-settings-');
    const models = join(data.dir, 'models');
    mkdirSync(models);
    copyFileSync(testModel('stories260K.gguf'), join(models, 'stories260K.gguf'));
    backend = await openTestBackend({ dataDir: data.dir, modelsDirOverride: models, modelPathsAnywhere: false, overrides: { threads: 1 }, telemetry: false });
    await backend.attachApiServer(new ApiServerController(backend));
  });

  after(async () => {
    await backend.dispose();
    data.cleanup();
  });

  test('off by default; on makes a key and serves it; a new key locks the old one out; off stops it', async () => {
    assert.equal(ok(await backend.request('api.status', {})).state, 'off');
    const settings = ok(await backend.request('settings.get', {}));
    assert.equal(settings.api.enabled, false);
    assert.equal(settings.api.apiKey, null);
    const port = await freePort();
    const statuses: unknown[] = [];
    const unsubscribe = backend.onEvent((e) => e.type === 'api.status' && statuses.push(e.status));
    const on = ok(await backend.request('settings.update', { api: { ...settings.api, enabled: true, port } }));
    assert.ok(on.api.apiKey && on.api.apiKey.length >= 32, 'a key was made');
    const status = ok(await backend.request('api.status', {}));
    assert.equal(status.state, 'running');
    assert.equal(status.baseUrl, `http://127.0.0.1:${port}/v1`);
    assert.ok(statuses.length > 0 && statuses.every((s) => apiServerStatusSchema.safeParse(s).success));
    const first = new OpenAI({ apiKey: on.api.apiKey!, baseURL: status.baseUrl!, maxRetries: 0 });
    assert.ok((await first.models.list()).data.some((m) => m.id === 'auto'));

    const renewed = ok(await backend.request('api.regenerateKey', {}));
    assert.notEqual(renewed.api.apiKey, on.api.apiKey);
    await assert.rejects(first.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
    const second = new OpenAI({ apiKey: renewed.api.apiKey!, baseURL: status.baseUrl!, maxRetries: 0 });
    const reply = await second.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 });
    assert.equal(reply.usage?.completion_tokens, 2);
    assert.equal(ok(await backend.request('api.status', {})).servedRequests, 1);

    ok(await backend.request('settings.update', { api: { ...renewed.api, enabled: false } }));
    assert.equal(ok(await backend.request('api.status', {})).state, 'off');
    await assert.rejects(raw(port, { path: '/v1/models' }), /ECONNREFUSED/);
    unsubscribe();
  });

  test('a port in use is reported as an error status, and a free port then works', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const settings = ok(await backend.request('settings.get', {}));
      ok(await backend.request('settings.update', { api: { ...settings.api, enabled: true, port: taken } }));
      const status = ok(await backend.request('api.status', {}));
      assert.equal(status.state, 'error');
      assert.match(status.error ?? '', new RegExp(`Port ${taken} is in use`));
      const free = await freePort();
      ok(await backend.request('settings.update', { api: { ...settings.api, enabled: true, port: free } }));
      assert.equal(ok(await backend.request('api.status', {})).state, 'running');
      ok(await backend.request('settings.update', { api: { ...settings.api, enabled: false } }));
    } finally {
      blocker.close();
    }
  });
});

describe('wattwise serve', () => {
  test('prints the base URL on stdout, answers with the given key, stops on SIGINT with exit 0', async () => {
    const data = tempDir('wattwise-serve-');
    const models = join(data.dir, 'models');
    mkdirSync(models);
    copyFileSync(testModel('stories260K.gguf'), join(models, 'stories260K.gguf'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'serve', '--port', String(port), '--api-key', apiKey, '--data-dir', data.dir, '--models-dir', models, '--cpu-only'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(stdout, `http://127.0.0.1:${port}/v1\n`, stderr);
      const client = new OpenAI({ apiKey, baseURL: stdout.trim(), maxRetries: 0 });
      const reply = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
      assert.equal(reply.usage?.completion_tokens, 3);
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.equal(stdout, `http://127.0.0.1:${port}/v1\n`, 'nothing else on stdout');
    } finally {
      child.kill('SIGKILL');
      data.cleanup();
    }
  });

  test('bad usage exits 2; a port in use exits 1 with one line', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'serve', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    assert.equal((await run(['--port', 'abc'])).code, 2);
    assert.equal((await run(['--api-key', 'short'])).code, 2);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const data = tempDir('wattwise-serve-busy-');
    try {
      const busy = await run(['--port', String((blocker.address() as AddressInfo).port), '--api-key', apiKey, '--data-dir', data.dir, '--cpu-only']);
      assert.equal(busy.code, 1);
      assert.equal(busy.stderr.trim().split('\n').length, 1, busy.stderr);
      assert.match(busy.stderr, /in use by another program/);
    } finally {
      blocker.close();
      data.cleanup();
    }
  });
});
