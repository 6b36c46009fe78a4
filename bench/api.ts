/**
 * The local OpenAI-compatible API's streaming overhead: decode tokens/s as an API client sees them
 * (SSE chunks over HTTP on 127.0.0.1) vs the same reply through the CLI's path (the backend in process,
 * `chat.token` events, as `wattwise chat` prints them), same model (the 75 MB bench model of the ladder),
 * threads, context and length, alternated in one run. Goal: the API keeps ≥ 98% of the CLI's speed.
 */
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openRuntime } from '../electron/core/runtime.js';
import { startOpenAiServer } from '../electron/server/openai/server.js';
import { generateLadder, ladderDir } from '../test/fixtures/ladder/ladder.js';
import type { BenchResult } from './main.js';

/** Tokens per reply, and replies per path (after one warm-up each). */
const replyTokens = 96;
const repeats = 5;

/** Tokens/s between the first and the last piece seen: (pieces − 1) ÷ (last − first). */
function seenTokensPerSecond(times: number[]): number {
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The bench (see the file's docstring). value = CLI tok/s ÷ API tok/s, limit 1 ÷ 0.98. */
export async function benchApiStreaming(): Promise<BenchResult> {
  const ladder = await generateLadder({ outDir: ladderDir(), bench: true, sizes: [], storiesQuantizations: [] });
  const model = ladder.find((m) => m.shapeKey === 'bench-75mb');
  if (!model) throw new Error('bench model bench-75mb was not generated');
  const dataDir = mkdtempSync(join(tmpdir(), 'wattwise-bench-api-'));
  const modelsDir = join(dataDir, 'models');
  mkdirSync(modelsDir);
  symlinkSync(model.path, join(modelsDir, basename(model.path)));
  const backend = await openRuntime({ dataDir, transport: 'http', modelsDirOverride: modelsDir, gpu: false, discovery: false, logLevel: 'error', overrides: { maxReplyTokens: replyTokens } });
  const apiKey = 'bench-key-0123456789abcdef';
  const server = await startOpenAiServer({ backend, port: 0, apiKey });
  const modelId = basename(model.path).replace(/\.gguf$/i, '');
  try {
    const conversation = await backend.request('conversations.create', { modelPath: join(modelsDir, basename(model.path)) });
    if (!conversation.ok) throw new Error(conversation.error.message);

    const cliRun = async (): Promise<number> => {
      const times: number[] = [];
      let requestId: string | null = null;
      const done = new Promise<void>((resolve) => {
        const unsubscribe = backend.onEvent((event) => {
          if (event.type === 'chat.token' && event.requestId === requestId) times.push(performance.now());
          if (event.type === 'chat.done' && event.requestId === requestId) {
            unsubscribe();
            resolve();
          }
        });
      });
      const started = await backend.request('chat.regenerate', { conversationId: conversation.value.id }).then((r) =>
        r.ok ? r : backend.request('chat.send', { conversationId: conversation.value.id, content: 'Once upon a time' }),
      );
      if (!started.ok) throw new Error(started.error.message);
      requestId = started.value.requestId;
      await done;
      return seenTokensPerSecond(times);
    };

    const apiRun = async (): Promise<number> => {
      const response = await fetch(`${server.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: modelId, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: replyTokens, stream: true }),
      });
      if (!response.ok || !response.body) throw new Error(`API answered ${response.status}`);
      const times: number[] = [];
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of response.body) {
        buffer += decoder.decode(bytes, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
          const chunk = JSON.parse(line.slice(6)) as { choices: { delta?: { content?: string } }[] };
          if ((chunk.choices[0]?.delta?.content ?? '') !== '') times.push(performance.now());
        }
      }
      return seenTokensPerSecond(times);
    };

    await cliRun();
    await apiRun();
    const cli: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < repeats; i++) {
      cli.push(await cliRun());
      api.push(await apiRun());
    }
    const slowdown = median(cli) / median(api);
    return {
      name: 'api-streaming-overhead',
      metric: 'CLI decode tok/s ÷ API client decode tok/s (streamed)',
      value: slowdown,
      unit: '×',
      limit: 1 / 0.98,
      ok: slowdown < 1 / 0.98,
      runs: api.map((a, i) => cli[i]! / a),
      detail: `${(model.sizeBytes / 1e6).toFixed(0)} MB F16, ${replyTokens} tokens × ${repeats} alternated; CLI median ${median(cli).toFixed(1)} tok/s, API median ${median(api).toFixed(1)} tok/s (API keeps ${((median(api) / median(cli)) * 100).toFixed(1)}%, goal ≥ 98%)`,
    };
  } finally {
    await server.close();
    await backend.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
