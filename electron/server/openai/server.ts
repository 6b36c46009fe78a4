/**
 * The local OpenAI-compatible API: a new transport on the same backend (engine, reply slot, governor,
 * energy meter, store) with the browser mode's defences (../defences.ts).
 *
 * Routes (OpenAI's API reference, https://platform.openai.com/docs/api-reference):
 * - `GET /v1/models`, `GET /v1/models/{id}`: the usable installed models by id, and `auto`.
 * - `POST /v1/chat/completions`: chat; `stream: true` sends `chat.completion.chunk` objects as SSE `data:`
 *   lines ending with `data: [DONE]`; `stream_options.include_usage` adds a last chunk with `usage`.
 * - `POST /v1/completions`: plain text completion (no chat template), streamed the same way.
 *
 * Extensions: `usage` carries `energy_j`, `energy_j_per_token`, `energy_source` and `energy_measured`;
 * a `wattwise` object names the model's file, quantization and, when `model: "auto"` let the power
 * governor choose, its profile and reason.
 *
 * Defences: 127.0.0.1 only; `Host` must be the server's own loopback name and port (DNS rebinding); a
 * present `Origin` must be one the user allowed (CORS headers only for those; none by default);
 * `Authorization: Bearer <key>` compared in constant time (401 otherwise); JSON bodies up to
 * {@link maxApiBodyBytes}. Requests wait for their turn behind the app's chat (bounded queue, then 429
 * with `Retry-After`); a client that disconnects stops its generation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Backend } from '../../core/backend.js';
import { ApiReplyError, AUTO_MODEL_ID, type ApiModel, type ApiReplyResult } from '../../core/apiReplies.js';
import { allowedHosts, bearerMatches, checkRequest, eventStreamHeaders, isJsonRequest, isRefusal, readBody, sendJson, setSecurityHeaders } from '../defences.js';
import { badRequest, OpenAiError, parseChatRequest, parseCompletionRequest, type ParsedChatRequest, type ParsedCompletionRequest } from './requests.js';
import { toApiError } from '../../core/backend.js';

/** Largest accepted request body, bytes: 8 MiB (a 128k-token context of text is ~0.5 MB; room for JSON escaping). */
export const maxApiBodyBytes = 8 * 1024 * 1024;

/** Options of {@link startOpenAiServer}. */
export interface OpenAiServerOptions {
  backend: Backend;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The key clients must send as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Web origins allowed to call from a browser (CORS); default none. */
  allowedOrigins?: readonly string[];
  /** Interface; default and recommended `127.0.0.1`. */
  host?: string;
}

/** A running API server. */
export interface RunningOpenAiServer {
  /** `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  port: number;
  /** Changes the key and allowed origins without restarting (requests in progress go on). */
  configure(update: { apiKey: string; allowedOrigins: readonly string[] }): void;
  /** Stops listening, aborts the requests in progress and closes their connections. */
  close(): Promise<void>;
}

/** Seconds since the epoch (OpenAI's `created`). */
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A response id with OpenAI's prefix (`chatcmpl-…`, `cmpl-…`). */
const responseId = (prefix: string) => `${prefix}-${randomBytes(12).toString('base64url')}`;

/**
 * Starts the API server.
 * @throws the listen error (`EADDRINUSE` when the port is taken, `EACCES`).
 */
export async function startOpenAiServer(options: OpenAiServerOptions): Promise<RunningOpenAiServer> {
  const host = options.host ?? '127.0.0.1';
  const backend = options.backend;
  let apiKey = options.apiKey;
  let origins = new Set((options.allowedOrigins ?? []).map((o) => o.toLowerCase()));
  let port = 0;
  const open = new Set<AbortController>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const failure = error instanceof OpenAiError ? error : new OpenAiError(500, toApiError(error).message, 'server_error', null, toApiError(error).code.toLowerCase());
      if (!res.headersSent) sendJson(res, failure.status, failure.body(), failure.headers);
      else if (!res.writableEnded) {
        res.write(`data: ${JSON.stringify(failure.body())}\n\n`);
        res.end();
      }
    });
  });
  // Long replies: no socket timeout while the model writes (the defaults only bound receiving the request).
  server.setTimeout(0);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    const checked = checkRequest(req, allowedHosts(host, port), origins);
    if (isRefusal(checked)) throw new OpenAiError(checked.status, checked.message, 'invalid_request_error', null, checked.status === 421 ? 'host_not_allowed' : checked.status === 403 ? 'origin_not_allowed' : 'bad_request_target');
    if (checked.cors && checked.origin) {
      res.setHeader('Access-Control-Allow-Origin', checked.origin);
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
    }
    if (!bearerMatches(req, apiKey)) {
      throw new OpenAiError(401, 'Incorrect API key provided: send the key shown in Wattwise → Settings → Local API as "Authorization: Bearer <key>"', 'invalid_request_error', null, 'invalid_api_key');
    }
    const path = checked.url.pathname.replace(/\/+$/, '');
    const route = `${req.method ?? 'GET'} ${path}`;
    if (route === 'GET /v1/models') return listModels(res);
    const one = /^GET \/v1\/models\/(.+)$/.exec(route);
    if (one) return getModel(res, decodeURIComponent(one[1]!));
    if (route === 'POST /v1/chat/completions') return chat(req, res);
    if (route === 'POST /v1/completions') return completion(req, res);
    if (['/v1/models', '/v1/chat/completions', '/v1/completions'].includes(path)) {
      throw new OpenAiError(405, `Method ${req.method ?? ''} not allowed on ${path}`, 'invalid_request_error', null, 'method_not_allowed');
    }
    throw new OpenAiError(404, `Unknown request URL: ${req.method ?? ''} ${path}`, 'invalid_request_error', null, 'unknown_url');
  }

  /** OpenAI's model object, with Wattwise's facts about the file. */
  function modelObject(id: string, model: ApiModel['model'] | null): Record<string, unknown> {
    return {
      id,
      object: 'model',
      created: 0,
      owned_by: model ? (model.source === 'models-folder' ? 'wattwise' : model.source) : 'wattwise',
      ...(model
        ? { wattwise: { name: model.name, quantization: model.quantization, size_bytes: model.sizeBytes, parameters: model.parameterCount, source: model.source } }
        : { wattwise: { description: 'The power governor chooses the model for the profile in effect' } }),
    };
  }

  async function listModels(res: ServerResponse): Promise<void> {
    const models = await backend.apiReplies.models();
    sendJson(res, 200, { object: 'list', data: [modelObject(AUTO_MODEL_ID, null), ...models.map((m) => modelObject(m.id, m.model))] });
  }

  async function getModel(res: ServerResponse, id: string): Promise<void> {
    if (id === AUTO_MODEL_ID) return sendJson(res, 200, modelObject(AUTO_MODEL_ID, null));
    const found = (await backend.apiReplies.models()).find((m) => m.id === id);
    if (!found) throw new OpenAiError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
    sendJson(res, 200, modelObject(found.id, found.model));
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    if (!isJsonRequest(req)) throw new OpenAiError(415, 'Content-Type must be application/json', 'invalid_request_error', null, 'unsupported_media_type');
    const body = await readBody(req, maxApiBodyBytes);
    if (body === null) throw new OpenAiError(413, `Request body over ${maxApiBodyBytes} bytes`, 'invalid_request_error', null, 'request_too_large');
    try {
      return JSON.parse(body);
    } catch {
      throw badRequest('The request body is not valid JSON', null, 'invalid_json');
    }
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseChatRequest(await readJson(req));
    await respond(res, parsed, 'chat');
  }

  async function completion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseCompletionRequest(await readJson(req));
    await respond(res, parsed, 'completion');
  }

  /** Runs the request through the backend and answers it, streamed or not. */
  async function respond(res: ServerResponse, parsed: ParsedChatRequest | ParsedCompletionRequest, kind: 'chat' | 'completion'): Promise<void> {
    const controller = new AbortController();
    open.add(controller);
    // The client went away (or the server is closing): stop waiting or generating.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const id = responseId(kind === 'chat' ? 'chatcmpl' : 'cmpl');
    const created = nowSeconds();
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    let modelId = parsed.model;
    const send = (data: unknown) => {
      if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const chunk = (delta: { role?: 'assistant'; content?: string }, finishReason: string | null) =>
      kind === 'chat'
        ? { id, object: chunkObject, created, model: modelId, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] }
        : { id, object: chunkObject, created, model: modelId, system_fingerprint: null, choices: [{ index: 0, text: delta.content ?? '', logprobs: null, finish_reason: finishReason }] };

    let result: ApiReplyResult;
    try {
      result = await backend.apiReplies.run({
        model: parsed.model,
        kind,
        systemPrompt: 'systemPrompt' in parsed ? parsed.systemPrompt : '',
        history: 'history' in parsed ? parsed.history : [],
        ...('prompt' in parsed ? { prompt: parsed.prompt } : {}),
        maxTokens: parsed.maxTokens,
        sampling: parsed.sampling,
        stop: parsed.stop,
        signal: controller.signal,
        onStart: (model) => {
          modelId = model.id;
          if (!parsed.stream) return;
          res.writeHead(200, eventStreamHeaders);
          if (kind === 'chat') send(chunk({ role: 'assistant', content: '' }, null));
        },
        onText: (piece) => {
          if (parsed.stream) send(chunk({ content: piece }, null));
        },
      });
    } catch (error) {
      throw toOpenAiError(error);
    } finally {
      open.delete(controller);
    }
    if (result.aborted && controller.signal.aborted) {
      // Nobody to answer (the client left, or the server is closing).
      if (!res.writableEnded) res.end();
      return;
    }
    if (result.error && !parsed.stream) {
      throw new OpenAiError(500, result.error.message, 'server_error', null, result.error.code.toLowerCase());
    }
    const usage = usageOf(result);
    const wattwise = wattwiseOf(result);
    if (parsed.stream) {
      if (result.error) send(new OpenAiError(500, result.error.message, 'server_error', null, result.error.code.toLowerCase()).body());
      else {
        send({ ...chunk({}, result.finishReason), wattwise });
        if (parsed.includeUsage) send({ id, object: chunkObject, created, model: modelId, system_fingerprint: null, choices: [], usage, wattwise });
      }
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
      return;
    }
    const choice =
      kind === 'chat'
        ? { index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }
        : { index: 0, text: result.text, logprobs: null, finish_reason: result.finishReason };
    sendJson(res, 200, { id, object, created, model: modelId, system_fingerprint: null, choices: [choice], usage, wattwise });
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const displayHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    baseUrl: `http://${displayHost}:${port}/v1`,
    port,
    configure(update) {
      apiKey = update.apiKey;
      origins = new Set(update.allowedOrigins.map((o) => o.toLowerCase()));
    },
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const c of open) c.abort();
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

/** OpenAI's `usage`, with the reply's energy as extensions (null when no telemetry measured it). */
function usageOf(result: ApiReplyResult): Record<string, unknown> {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    energy_j: result.energy?.energyJ ?? null,
    energy_j_per_token: result.energy?.energyJPerToken ?? null,
    energy_source: result.energy?.sourceId ?? null,
    energy_measured: result.energy?.measured ?? false,
  };
}

/** The `wattwise` extension object: the file that answered and, for `auto`, the governor's decision. */
function wattwiseOf(result: ApiReplyResult): Record<string, unknown> {
  return {
    model_name: result.model?.model.name ?? null,
    quantization: result.model?.model.quantization ?? null,
    chosen_by: result.governor ? 'governor' : 'request',
    profile: result.governor?.profile ?? null,
    reason: result.governor?.reason ?? null,
    energy_source_label: result.energy?.sourceLabel ?? null,
    average_power_w: result.energy?.avgPowerW ?? null,
  };
}

/** Maps the backend's refusals to OpenAI's statuses and error types. */
function toOpenAiError(error: unknown): OpenAiError {
  if (error instanceof OpenAiError) return error;
  if (error instanceof ApiReplyError) {
    switch (error.kind) {
      case 'model_not_found':
        return new OpenAiError(404, error.message, 'invalid_request_error', 'model', 'model_not_found');
      case 'queue_full':
        return new OpenAiError(429, error.message, 'rate_limit_error', null, 'rate_limit_exceeded', { 'Retry-After': String(error.retryAfterSeconds ?? 10) });
      case 'no_model':
        return new OpenAiError(503, error.message, 'server_error', 'model', 'no_model');
      case 'shutting_down':
        return new OpenAiError(503, error.message, 'server_error', null, 'shutting_down');
    }
  }
  const apiError = toApiError(error);
  return new OpenAiError(apiError.code === 'BAD_INPUT' ? 400 : 500, apiError.message, apiError.code === 'BAD_INPUT' ? 'invalid_request_error' : 'server_error', null, apiError.code.toLowerCase());
}
