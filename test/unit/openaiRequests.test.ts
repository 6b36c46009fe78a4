/** The OpenAI request readers (electron/server/openai/requests.ts) and the API's model ids (electron/core/apiReplies.ts): pure functions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAiError, parseChatRequest, parseCompletionRequest } from '../../electron/server/openai/requests.js';
import { apiModelIds } from '../../electron/core/apiReplies.js';
import type { ModelInfo } from '../../shared/contract.js';

function rejects400(fn: () => unknown, param: string | null): void {
  assert.throws(fn, (e: unknown) => e instanceof OpenAiError && e.status === 400 && e.param === param && e.type === 'invalid_request_error');
}

test('chat: system and developer messages make the system prompt; text parts are joined; the rest are turns', () => {
  const parsed = parseChatRequest({
    model: 'auto',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'there' }] },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'How are you?' },
    ],
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(parsed.systemPrompt, 'Be brief.\n\nAnswer in English.');
  assert.deepEqual(parsed.history, [
    { role: 'user', content: 'Hello there' },
    { role: 'assistant', content: 'Hi!' },
    { role: 'user', content: 'How are you?' },
  ]);
  assert.equal(parsed.stream, true);
  assert.equal(parsed.includeUsage, true);
  assert.equal(parsed.maxTokens, null);
  assert.deepEqual(parsed.sampling, {});
});

test('chat: sampling, stop and length fields are read; nulls mean "not given"', () => {
  const parsed = parseChatRequest({
    model: 'm',
    messages: [{ role: 'user', content: 'x' }],
    temperature: 0.2,
    top_p: 0.9,
    seed: -1,
    stop: 'END',
    max_tokens: 50,
    max_completion_tokens: 20,
    n: 1,
    logprobs: false,
    response_format: { type: 'text' },
    presence_penalty: null,
  });
  assert.deepEqual(parsed.sampling, { temperature: 0.2, topP: 0.9, seed: 4294967295 });
  assert.deepEqual(parsed.stop, ['END']);
  assert.equal(parsed.maxTokens, 20, 'max_completion_tokens wins over the deprecated max_tokens');
  const nulls = parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: null, stop: null, seed: null, max_tokens: null, stream: null });
  assert.deepEqual(nulls.sampling, {});
  assert.deepEqual(nulls.stop, []);
  assert.equal(nulls.stream, false);
  assert.deepEqual(parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['', 'a'] }).stop, ['a']);
});

test('chat: wrong types and unsupported features are 400s naming the field', () => {
  rejects400(() => parseChatRequest(null), null);
  rejects400(() => parseChatRequest([]), null);
  rejects400(() => parseChatRequest({ messages: [{ role: 'user', content: 'x' }] }), 'model');
  rejects400(() => parseChatRequest({ model: 'm', messages: 'hi' }), 'messages');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }), 'temperature');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }), 'max_tokens');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 3 }), 'n');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: true }), 'logprobs');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }), 'response_format');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'tool', content: 'x' }, { role: 'user', content: 'x' }] }), 'messages[0].role');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] }), 'messages[1].role');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: '   ' }] }), 'messages[0].content');
  rejects400(() => parseChatRequest({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role');
});

test('completion: one prompt (string or array of one); several, tokens, suffix and echo refused', () => {
  assert.equal(parseCompletionRequest({ model: 'm', prompt: 'Once' }).prompt, 'Once');
  assert.equal(parseCompletionRequest({ model: 'm', prompt: ['Once'] }).prompt, 'Once');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: ['a', 'b'] }), 'prompt');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: [1, 2, 3] }), 'prompt');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: ' ' }), 'prompt');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: 'a', suffix: 'b' }), 'suffix');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: 'a', echo: true }), 'echo');
  rejects400(() => parseCompletionRequest({ model: 'm', prompt: 'a', best_of: 2 }), 'best_of');
});

function model(fileName: string, source: ModelInfo['source'], extra: Partial<ModelInfo> = {}): ModelInfo {
  return {
    path: `/m/${source}/${fileName}`,
    fileName,
    name: fileName,
    sizeBytes: 1,
    usable: true,
    problem: null,
    architecture: 'llama',
    parameterCount: 1,
    quantization: 'Q4_0',
    trainContextSize: 2048,
    hasChatTemplate: true,
    family: 'x',
    sizeLabel: null,
    basename: null,
    source,
    appName: null,
    kvCacheBytesPerToken: null,
    ...extra,
  };
}

test('model ids: file names without .gguf, Ollama names, clashes told apart by source then number, never "auto", unusable left out', () => {
  const ids = apiModelIds([
    model('qwen.gguf', 'models-folder'),
    model('qwen.gguf', 'lmstudio'),
    model('qwen.gguf', 'lmstudio'),
    model('sha256-abc', 'ollama', { appName: 'llama3.2:1b' }),
    model('auto.gguf', 'models-folder'),
    model('broken.gguf', 'models-folder', { usable: false }),
  ]).map((m) => m.id);
  assert.deepEqual(ids, ['qwen@models-folder', 'qwen@lmstudio', 'qwen@lmstudio-2', 'llama3.2:1b', 'auto@models-folder']);
  assert.equal(new Set(ids).size, ids.length);
});
