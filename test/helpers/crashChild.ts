/**
 * Child process for the crash test: starts a slow scripted reply and reports once part of it has been
 * streamed, then waits to be killed (SIGKILL), like an app that dies mid-reply.
 * argv: <dataDir> <modelPath>
 */
import { openRuntime } from '../../electron/core/runtime.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';

const [dataDir, modelPath] = process.argv.slice(2) as [string, string];
const backend = await openRuntime({
  dataDir,
  transport: 'ipc',
  // The kit's model is named directly, as the CLI does.
  modelPathsAnywhere: true,
  engineFactory: () => new ScriptedEngine({ replies: ['word '.repeat(2000)], tokenDelayMs: 20 }),
});
const conversation = await backend.request('conversations.create', { modelPath });
if (!conversation.ok) throw new Error(conversation.error.message);
let tokens = 0;
backend.onEvent((event) => {
  if (event.type === 'chat.token' && ++tokens === 20) process.stdout.write(`STREAMING ${conversation.value.id}\n`);
});
const started = await backend.request('chat.send', { conversationId: conversation.value.id, content: 'Tell me a long story', modelPath });
if (!started.ok) throw new Error(started.error.message);
setInterval(() => undefined, 1000);
