/**
 * Runs Doyensec's electronegativity (https://github.com/doyensec/electronegativity) over `electron/` and
 * fails on any HIGH finding, whatever its confidence, or when a file that uses Electron's API could not be
 * parsed (an unscanned file is not a clean one). `npm test` runs it after the type check:
 *
 *   node --import tsx scripts/electronegativity.ts [DIR]      (default: electron)
 *
 * Findings below HIGH are listed for review. A finding that has been reviewed and is safe is silenced
 * where it occurs with the tool's documented annotation and a reason, e.g.
 * `shell.openExternal(url); /* eng-disable OPEN_EXTERNAL_JS_CHECK *\/` (README, "Disabling checks").
 *
 * It uses the tool's programmatic entry (`require('@doyensec/electronegativity')`, documented in its
 * README) rather than its CLI: the CLI reads its options through whichever `commander` npm hoisted (it
 * does not declare its own), and with commander ≥ 7 it ignores `-i` and only prints its usage.
 * `AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK` is excluded: it downloads Electron's release list from GitHub,
 * which the test machines cannot reach (keeping Electron current is a dependency update's job). The tool
 * also tries to fetch updated translations (1 s timeout; offline it prints a line and goes on).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A severity or confidence level as the tool reports it. */
export interface Level {
  value: number;
  name: string;
}

/** One finding. */
export interface Finding {
  id: string;
  file: string;
  location: { line: number; column: number };
  description: string;
  shortenedURL: string;
  severity: Level;
  confidence: Level;
  manualReview?: boolean;
}

/** A file the tool could not (fully) parse. `tolerable` ones were still scanned. */
export interface ScanError {
  file: string;
  message: string;
  tolerable: boolean;
}

/** What the programmatic entry resolves to. */
export interface ScanResult {
  globalChecks: number;
  atomicChecks: number;
  errors: ScanError[];
  issues: Finding[];
}

interface RunOptions {
  input: string;
  output?: string;
  isSarif: boolean;
  customScan: string[];
  excludeFromScan: string[];
  isRelative: boolean;
  parserPlugins: string[];
  electronVersionOverride?: string;
}

/** Severity value of HIGH in the tool's `finder/attributes.js`. */
export const highSeverity = 3;

/** Checks left out, and why (see the file comment). */
export const excludedChecks = ['AvailableSecurityFixesGlobalCheck'];

/** The verdict on one scan. */
export interface Verdict {
  /** HIGH findings: each fails the run. */
  high: Finding[];
  /** Everything below HIGH, listed for review. */
  other: Finding[];
  /** Files using Electron's API that the tool could not parse: each fails the run. */
  unscanned: ScanError[];
  /** Other files it could not parse (no Electron API in them): listed only. */
  skipped: ScanError[];
  ok: boolean;
}

/** Whether a source file uses Electron's API (imports or requires `electron`). */
export function usesElectron(source: string): boolean {
  return /\bfrom\s+['"]electron['"]|\brequire\(\s*['"]electron['"]\s*\)|\bimport\(\s*['"]electron['"]\s*\)/.test(source);
}

/**
 * Sorts a scan's findings and parse errors into what fails the run and what is only listed.
 * `readSource` returns a file's text (for the "uses Electron" test of unparsed files).
 */
export function judge(result: ScanResult, readSource: (file: string) => string): Verdict {
  const high = result.issues.filter((i) => i.severity.value >= highSeverity);
  const other = result.issues.filter((i) => i.severity.value < highSeverity);
  const hard = result.errors.filter((e) => !e.tolerable);
  const unscanned = hard.filter((e) => {
    try {
      return usesElectron(readSource(e.file));
    } catch {
      return true;
    }
  });
  const skipped = hard.filter((e) => !unscanned.includes(e));
  return { high, other, unscanned, skipped, ok: high.length === 0 && unscanned.length === 0 };
}

/** Runs the tool over `input` (absolute paths in the result). */
export async function scan(input: string, repoRoot: string): Promise<ScanResult> {
  const require = createRequire(join(repoRoot, 'package.json'));
  const run = require('@doyensec/electronegativity') as (options: RunOptions) => Promise<ScanResult>;
  const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
  return run({
    input: resolve(input),
    isSarif: false,
    customScan: [],
    excludeFromScan: excludedChecks.map((c) => c.toLowerCase()),
    isRelative: false,
    parserPlugins: [],
    electronVersionOverride: electronVersion,
  });
}

function line(f: Finding, root: string): string {
  const review = f.manualReview ? ' (review)' : '';
  return `  ${f.severity.name.padEnd(13)} ${f.confidence.name.padEnd(9)} ${relative(root, f.file) || f.file}:${f.location.line}  ${f.id}${review}  ${f.shortenedURL}`;
}

async function main(): Promise<void> {
  const root = process.cwd();
  const input = process.argv[2] ?? 'electron';
  const result = await scan(input, root);
  const verdict = judge(result, (file) => readFileSync(file, 'utf8'));
  console.log(`electronegativity: ${result.atomicChecks + result.globalChecks} checks over ${input}/`);
  for (const f of verdict.high) console.log(line(f, root));
  for (const f of verdict.other) console.log(line(f, root));
  for (const e of verdict.skipped) console.log(`  not parsed (no Electron API in it): ${relative(root, e.file)}: ${e.message}`);
  for (const e of verdict.unscanned) console.error(`  NOT SCANNED: ${relative(root, e.file)}: ${e.message}`);
  if (verdict.ok) {
    console.log(`electronegativity: no HIGH findings (${verdict.other.length} lower ones listed above for review)`);
    return;
  }
  console.error(
    `electronegativity: ${verdict.high.length} HIGH finding(s), ${verdict.unscanned.length} Electron file(s) not scanned. ` +
      'Fix them, or justify each where it occurs with /* eng-disable CHECK_ID */ and a reason.',
  );
  process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error('electronegativity failed to run:', error);
    process.exitCode = 1;
  });
}
