/**
 * Fake tools for the telemetry tests: real child processes (`node -e`) that behave like nvidia-smi and like a
 * PowerShell session reading commands from stdin, printing the fixture outputs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SpawnFn } from '../../../electron/telemetry/sources/spawn.js';
import { powerFixturePath } from './fixtures.js';

/** A fake nvidia-smi: prints the fixture every `everyMs` (once when 0), then exits with `exitCode` or hangs. */
export function fakeSmi(options: { everyMs?: number; exitCode?: number; calls?: { command: string; args: string[] }[]; children?: ChildProcess[] } = {}): SpawnFn {
  const script = `
    const text = require('fs').readFileSync(process.argv[1], 'utf8');
    process.stdout.write(text);
    const every = Number(process.argv[2]);
    const exitCode = process.argv[3];
    if (exitCode !== '') setTimeout(() => process.exit(Number(exitCode)), 30);
    else if (every > 0) setInterval(() => process.stdout.write(text), every);
    else setInterval(() => {}, 1000);
  `;
  return (command, args) => {
    options.calls?.push({ command, args });
    const child = spawn(process.execPath, ['-e', script, powerFixturePath('nvidia-smi.csv'), String(options.everyMs ?? 50), options.exitCode === undefined ? '' : String(options.exitCode)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    options.children?.push(child);
    return child;
  };
}

/**
 * A fake `powershell -Command -`: for each stdin line that carries `@@wattwise:<id>` and the BatteryStatus query,
 * prints `@@wattwise:<id> <fixture JSON>`; exits after `dieAfter` answers when given.
 */
export function fakePowerShell(options: { calls?: { command: string; args: string[] }[]; children?: ChildProcess[]; dieAfter?: number } = {}): SpawnFn {
  const script = `
    const text = require('fs').readFileSync(process.argv[1], 'utf8').trim();
    const dieAfter = Number(process.argv[2]);
    let answered = 0, buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\\n')) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        if (line.trim() === 'exit') process.exit(0);
        const m = /@@wattwise:(\\d+)/.exec(line);
        if (!m) continue;
        if (!line.includes('BatteryStatus')) { process.stdout.write('@@wattwise:' + m[1] + ' !unexpected\\n'); continue; }
        process.stdout.write('PS noise line\\r\\n@@wattwise:' + m[1] + ' ' + text + '\\r\\n');
        answered++;
        if (dieAfter > 0 && answered >= dieAfter) { process.stderr.write('boom\\n'); process.exit(5); }
      }
    });
  `;
  return (command, args) => {
    options.calls?.push({ command, args });
    const child = spawn(process.execPath, ['-e', script, powerFixturePath('wmi-BatteryStatus.json'), String(options.dieAfter ?? 0)], { stdio: ['pipe', 'pipe', 'pipe'] });
    options.children?.push(child);
    return child;
  };
}
