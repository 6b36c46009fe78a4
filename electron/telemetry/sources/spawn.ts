/**
 * The child-process seam shared by the sources that keep one long-lived tool running (nvidia-smi, PowerShell).
 * Tests inject a {@link SpawnFn} that starts a real child (e.g. `node -e` printing canned output) instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts `command` with `args` and returns the child. The child must have piped `stdout` and `stderr` (and a
 * piped `stdin` for sources that write commands, like the PowerShell session). A missing binary is reported the
 * Node way: an `'error'` event whose `code` is `ENOENT` (a synchronous throw is handled the same way).
 */
export type SpawnFn = (command: string, args: string[]) => ChildProcess;

/** The default {@link SpawnFn}: `child_process.spawn` with every stdio piped and no console window on Windows. */
export const defaultSpawn: SpawnFn = (command, args) => spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });

/** Calls `onLine` for every complete line (without `\r\n`/`\n`) read from `stream`. */
export function onLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffer = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string | Buffer) => {
    buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffer.length > 0) onLine(buffer.replace(/\r$/, ''));
    buffer = '';
  });
}

/** Kills `child` (SIGTERM, then SIGKILL after `graceMs`) and resolves once it has exited. Never throws. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    hard.unref();
    const done = setTimeout(resolve, graceMs * 2);
    done.unref();
    child.once('exit', () => {
      clearTimeout(hard);
      clearTimeout(done);
      resolve();
    });
    try {
      child.stdin?.end();
      child.kill('SIGTERM');
    } catch {
      resolve();
    }
  });
}
