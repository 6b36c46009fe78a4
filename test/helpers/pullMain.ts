/**
 * A tiny entry for the download tests: runs `models pull` exactly as `electron/cli/main.ts` runs a command
 * (`pullCommand(argv)` → `process.exitCode`; an unexpected throw → one stderr line, exit 1), so the tests can
 * spawn it, kill it and start it again.
 * argv: the words after `models pull`, e.g. `hf:org/repo/file.gguf --models-dir DIR --json`.
 */
import { pullCommand } from '../../electron/cli/pull.js';

pullCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`wattwise: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
