/**
 * The OpenAI API's request bodies as Wattwise reads them (`POST /v1/chat/completions`,
 * `POST /v1/completions`), and its error body. Reference: OpenAI's API reference
 * (https://platform.openai.com/docs/api-reference/chat/create, …/completions/create).
 *
 * As OpenAI clients expect, unknown fields are ignored; known fields with a wrong type are refused with
 * an OpenAI-shaped 400 naming the field (`param`). Known features Wattwise does not offer (n > 1, tools,
 * logprobs, JSON mode, images) are refused clearly rather than silently ignored.
 */
import { z } from 'zod';
import type { ChatTurn, SamplingOptions } from '../../engine/types.js';

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error to answer with an HTTP status and an OpenAI-shaped body. */
export class OpenAiError extends Error {
  override readonly name = 'OpenAiError';
  constructor(
    readonly status: number,
    message: string,
    /** OpenAI's `type`: `invalid_request_error`, `authentication_error`, `not_found_error`, `rate_limit_error`, `server_error`. */
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The response body. */
  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 about `param`. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): OpenAiError {
  return new OpenAiError(400, message, 'invalid_request_error', param, code);
}

const optionalNullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

/** Longest accepted text of one field (a message, a prompt), characters: the body limit bounds it anyway. */
const maxTextChars = 4_000_000;

const contentPart = z.looseObject({ type: z.string(), text: z.string().max(maxTextChars).optional() });
const messageContent = z.union([z.string().max(maxTextChars), z.array(contentPart).max(1000)]);

const chatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: optionalNullable(messageContent),
  name: z.string().max(256).optional(),
  tool_calls: z.array(z.unknown()).optional(),
});

const stop = optionalNullable(z.union([z.string().max(1000), z.array(z.string().max(1000)).max(4)]));

/** Fields both endpoints share (sampling, length, streaming). */
const common = {
  model: z.string().min(1).max(512),
  max_tokens: optionalNullable(z.number().int().min(1).max(1_000_000)),
  temperature: optionalNullable(z.number().min(0).max(2)),
  top_p: optionalNullable(z.number().min(0).max(1)),
  seed: optionalNullable(z.number().int()),
  stop,
  n: optionalNullable(z.number().int().min(1).max(128)),
  stream: optionalNullable(z.boolean()),
  stream_options: optionalNullable(z.looseObject({ include_usage: optionalNullable(z.boolean()) })),
  logprobs: optionalNullable(z.union([z.boolean(), z.number().int()])),
};

/** `POST /v1/chat/completions` body (the fields Wattwise reads). */
export const chatCompletionRequestSchema = z.looseObject({
  ...common,
  messages: z.array(chatMessage).min(1).max(10_000),
  max_completion_tokens: optionalNullable(z.number().int().min(1).max(1_000_000)),
  tools: optionalNullable(z.array(z.unknown())),
  functions: optionalNullable(z.array(z.unknown())),
  response_format: optionalNullable(z.looseObject({ type: z.string() })),
});
/** A chat completion request. */
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** `POST /v1/completions` body (the fields Wattwise reads). */
export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string().max(maxTextChars), z.array(z.unknown()).max(1000)]),
  suffix: optionalNullable(z.string()),
  echo: optionalNullable(z.boolean()),
  best_of: optionalNullable(z.number().int()),
});
/** A text completion request. */
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** What both endpoints hand to the backend. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | null;
  sampling: SamplingOptions;
  stop: string[];
}

/** A parsed chat request: the system prompt (system and developer messages, joined) and the turns. */
export interface ParsedChatRequest extends ParsedRequest {
  systemPrompt: string;
  history: ChatTurn[];
}

/** A parsed completion request. */
export interface ParsedCompletionRequest extends ParsedRequest {
  prompt: string;
}

/** `messages[0].content`-style name of a zod issue's path (OpenAI's `param`). */
function paramOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** Parses `body` with `schema`, or throws a 400 naming the first bad field. */
function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = paramOf(issue.path);
  throw badRequest(`Invalid value for '${param ?? 'body'}': ${issue.message}`, param, issue.code === 'invalid_type' && issue.message.includes('undefined') ? 'missing_required_parameter' : 'invalid_value');
}

/** The checks and conversions both endpoints share. */
function common2(request: z.infer<z.ZodObject<typeof common>>, maxTokens: number | null | undefined): ParsedRequest {
  if (request.n != null && request.n !== 1) throw badRequest('Wattwise generates one choice per request: n must be 1', 'n', 'unsupported_value');
  if (request.logprobs != null && request.logprobs !== false) throw badRequest('logprobs are not supported by Wattwise', 'logprobs', 'unsupported_parameter');
  const stops = request.stop == null ? [] : (Array.isArray(request.stop) ? request.stop : [request.stop]).filter((s) => s !== '');
  const sampling: SamplingOptions = {};
  if (request.temperature != null) sampling.temperature = request.temperature;
  if (request.top_p != null) sampling.topP = request.top_p;
  // llama.cpp seeds are unsigned 32-bit; OpenAI's are any integer.
  if (request.seed != null) sampling.seed = Number(BigInt.asUintN(32, BigInt(request.seed)));
  return {
    model: request.model,
    stream: request.stream === true,
    includeUsage: request.stream === true && request.stream_options?.include_usage === true,
    maxTokens: maxTokens ?? null,
    sampling,
    stop: stops,
  };
}

/** The text of a message's content (a string, or text parts joined); images and other parts are refused. */
function textOf(content: z.infer<typeof messageContent> | null | undefined, param: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, i) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw badRequest(`Content parts of type '${part.type}' are not supported: Wattwise's models read text only`, `${param}[${i}].type`, 'unsupported_value');
      }
      return part.text;
    })
    .join('');
}

/**
 * Reads a chat completion request: system and developer messages become the system prompt (joined by a
 * blank line), user and assistant messages the turns. The last message must be the user's.
 * @throws OpenAiError 400 for a wrong type, `n` > 1, tools, logprobs, JSON mode, images, tool messages.
 */
export function parseChatRequest(body: unknown): ParsedChatRequest {
  const request = parseWith(chatCompletionRequestSchema, body);
  if ((request.tools?.length ?? 0) > 0 || (request.functions?.length ?? 0) > 0) {
    throw badRequest('Tool and function calling are not supported by Wattwise yet', request.tools ? 'tools' : 'functions', 'unsupported_parameter');
  }
  if (request.response_format && request.response_format.type !== 'text') {
    throw badRequest(`response_format '${request.response_format.type}' is not supported by Wattwise yet`, 'response_format', 'unsupported_value');
  }
  const system: string[] = [];
  const history: ChatTurn[] = [];
  request.messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    if (message.role === 'tool' || message.role === 'function' || (message.tool_calls?.length ?? 0) > 0) {
      throw badRequest('Tool messages are not supported by Wattwise yet', `${param}.role`, 'unsupported_value');
    }
    const text = textOf(message.content, `${param}.content`);
    if (message.role === 'system' || message.role === 'developer') {
      if (text.trim() !== '') system.push(text);
    } else {
      history.push({ role: message.role, content: text });
    }
  });
  const last = request.messages.at(-1)!;
  if (last.role !== 'user') throw badRequest('The last message must be from the user', `messages[${request.messages.length - 1}].role`, 'invalid_value');
  if (history.at(-1)!.content.trim() === '') throw badRequest('The last user message is empty', `messages[${request.messages.length - 1}].content`, 'invalid_value');
  return { ...common2(request, request.max_completion_tokens ?? request.max_tokens), systemPrompt: system.join('\n\n'), history };
}

/**
 * Reads a text completion request: one prompt (a string, or an array of one string).
 * @throws OpenAiError 400 for a wrong type, several prompts, token prompts, `suffix`, `echo`, `best_of` > 1, `n` > 1.
 */
export function parseCompletionRequest(body: unknown): ParsedCompletionRequest {
  const request = parseWith(completionRequestSchema, body);
  let prompt: string;
  if (typeof request.prompt === 'string') prompt = request.prompt;
  else if (request.prompt.length === 1 && typeof request.prompt[0] === 'string') prompt = request.prompt[0];
  else throw badRequest('Wattwise completes one text prompt per request (a string, or an array of one string)', 'prompt', 'unsupported_value');
  if (prompt.trim() === '') throw badRequest('The prompt is empty', 'prompt', 'invalid_value');
  if (request.suffix != null && request.suffix !== '') throw badRequest('suffix (fill-in-the-middle) is not supported by Wattwise', 'suffix', 'unsupported_parameter');
  if (request.echo === true) throw badRequest('echo is not supported by Wattwise', 'echo', 'unsupported_parameter');
  if (request.best_of != null && request.best_of !== 1) throw badRequest('best_of must be 1', 'best_of', 'unsupported_value');
  return { ...common2(request, request.max_tokens), prompt };
}
