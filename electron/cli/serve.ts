/**
 * `wattwise serve`: the local OpenAI-compatible API without the app window (same backend, store and
 * defences as Settings → Local API). Prints the base URL (`http://127.0.0.1:P/v1`) on stdout, one line;
 * the key, where it came from and a line per request go to stderr. Ctrl+C stops it (a reply in progress
 * is stopped and stored).
 *
 * Exit codes: 0 stopped by a signal; 1 it could not start (port in use…, one stderr line); 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { defaultApiPort } from '../../shared/contract.js';
import { formatEnergyJ } from '../../shared/format.js';
import { openRuntime } from '../core/runtime.js';
import { defaultDataDir } from '../core/paths.js';
import { newApiKey } from '../core/apiServerHost.js';
import { startOpenAiServer } from '../server/openai/server.js';
import { listenProblem } from '../server/openai/controller.js';

/** Usage of the command (also in main.ts's help). */
export const serveUsage = `serve    [--port P] [--api-key KEY] [--data-dir DIR] [--models-dir DIR] [--cpu-only]
           Serves the OpenAI-compatible API on 127.0.0.1 (model "auto" = the power governor's choice;
           usage carries energy_j) and prints its base URL. Default port and key: Settings → Local API
           (port ${defaultApiPort}; a key is made and saved on first use).`;

/** Bad usage: exit 2. */
export class ServeUsageError extends Error {}

/**
 * Runs the command until SIGINT/SIGTERM. @returns the exit code.
 * @throws ServeUsageError for bad flags; Error (one line) when the server cannot start.
 */
export async function serveCommand(args: string[], options: { untilStopped?: Promise<void> } = {}): Promise<number> {
  let v: { [k: string]: string | boolean | undefined };
  try {
    v = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'api-key': { type: 'string' },
        'data-dir': { type: 'string' },
        'models-dir': { type: 'string' },
        'cpu-only': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ServeUsageError((error as Error).message);
  }
  const port = v.port === undefined ? undefined : Number(v.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ServeUsageError(`--port must be 0..65535, got "${String(v.port)}"`);
  const givenKey = typeof v['api-key'] === 'string' ? v['api-key'] : undefined;
  if (givenKey !== undefined && !/^[\x21-\x7e]{16,256}$/.test(givenKey)) throw new ServeUsageError('--api-key must be 16 to 256 printable ASCII characters without spaces');

  const backend = await openRuntime({
    dataDir: typeof v['data-dir'] === 'string' ? resolve(v['data-dir']) : defaultDataDir(),
    transport: 'http',
    modelsDirOverride: typeof v['models-dir'] === 'string' ? resolve(v['models-dir']) : null,
    gpu: v['cpu-only'] ? false : 'auto',
    logLevel: 'error',
  });
  try {
    const settings = await backend.request('settings.get', {});
    if (!settings.ok) throw new Error(settings.error.message);
    let apiKey = givenKey ?? settings.value.api.apiKey;
    if (apiKey === null) {
      apiKey = newApiKey();
      const saved = await backend.request('settings.update', { api: { ...settings.value.api, apiKey } });
      if (!saved.ok) throw new Error(saved.error.message);
      process.stderr.write('A new API key was made and saved (Settings → Local API shows it too).\n');
    }
    const wanted = port ?? settings.value.api.port;
    let server;
    try {
      server = await startOpenAiServer({ backend, port: wanted, apiKey, allowedOrigins: settings.value.api.allowedOrigins });
    } catch (error) {
      throw new Error(listenProblem(error, wanted));
    }
    const unsubscribe = backend.onEvent((event) => {
      if (event.type !== 'chat.done') return;
      const detail = event.message;
      if (!detail.stats) return;
      const energy = detail.energy ? `, ${formatEnergyJ(detail.energy.energyJ)}${detail.energy.measured ? '' : ' (estimated)'}` : '';
      process.stderr.write(`${new Date().toISOString()} ${detail.stats.modelName}: ${detail.stats.promptTokens} + ${detail.stats.completionTokens} tokens${energy}${detail.status === 'stopped' ? ' (client left)' : ''}\n`);
    });
    process.stdout.write(`${server.baseUrl}\n`);
    process.stderr.write(`API key: ${apiKey}\nSend it as "Authorization: Bearer <key>". Model "auto" lets the power governor choose. Ctrl+C stops.\n`);
    await (options.untilStopped ??
      new Promise<void>((resolveStop) => {
        process.once('SIGINT', () => resolveStop());
        process.once('SIGTERM', () => resolveStop());
      }));
    process.stderr.write('Stopping…\n');
    unsubscribe();
    await server.close();
    return 0;
  } finally {
    await backend.dispose();
  }
}
