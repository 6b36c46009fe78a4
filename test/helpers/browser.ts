/**
 * End-to-end helpers: Debian's Chromium driven by playwright-core, and the browser mode started exactly as
 * `npm run web` starts it (the CLI's `web` command in a child process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './models.js';

/** Chromium used by the e2e suite: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium with the flags this sandboxed, offline machine needs. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Launches Chromium and opens the app of `server` in a 1440×900 page (the size the screenshots use). */
export async function openApp(server: { url: string }): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  return { browser, page };
}

/** A browser-mode server running in a child process. */
export interface WebProcess {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  /** Stops it like Ctrl+C does (SIGINT) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `tsx electron/cli/main.ts web` (what `npm run web` runs) on a free port with the given folders,
 * waits for the printed URL, and returns it. The renderer must already be built (scripts/test.mjs builds
 * it before the e2e suite), so `--no-build` is passed.
 */
export async function startWebProcess(options: {
  dataDir: string;
  modelsDir: string;
  /** Extra environment for the child (e.g. `HF_ENDPOINT`, `HOME`), over this process's. */
  env?: Record<string, string | undefined>;
}): Promise<WebProcess> {
  mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'electron/cli/main.ts'), 'web', '--port', '0', '--data-dir', options.dataDir, '--models-dir', options.modelsDir, '--cpu-only', '--no-build'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: options.env ? { ...process.env, ...options.env } : process.env },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`web mode did not print its URL in 60 s\n${stderr}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web mode exited with ${code}\n${stderr}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.hash.replace('#token=', ''),
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

/** Calls the API of a running browser mode directly (test setup, e.g. settings). */
export async function apiCall(server: { origin: string; token: string }, method: string, input: unknown): Promise<unknown> {
  const res = await fetch(`${server.origin}/api/call/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
  const result = (await res.json()) as { ok: boolean; value?: unknown; error?: { message: string } };
  if (!result.ok) throw new Error(`${method}: ${result.error?.message}`);
  return result.value;
}

/** Saves a full-page screenshot under test-results/ (kept by CI as an artifact, looked at by people). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
