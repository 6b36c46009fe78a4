/**
 * Child process for the log-routing test: a LlamaEngine at log level `info` loads and runs a kit model;
 * it prints nothing itself, so anything on stdout is a native log line that went astray.
 * argv: <modelPath>
 */
import { LlamaEngine } from '../../electron/engine/llamaEngine.js';

const [modelPath] = process.argv.slice(2) as [string];
const engine = await LlamaEngine.create({
  gpu: false,
  logLevel: 'info',
  calibrationStore: { getThreadCalibration: () => null, saveThreadCalibration: () => undefined },
});
await engine.generate({
  modelPath,
  systemPrompt: '',
  history: [{ role: 'user', content: 'Once upon a time' }],
  maxTokens: 4,
  contextSize: 256,
  threads: 1,
  signal: new AbortController().signal,
  onText: () => undefined,
});
await engine.dispose();
