/**
 * The Electron shell's security policy (electron/shell/policy.ts) with stand-ins for Electron's objects:
 * the IPC sender check, the navigation guard, the window-open handler and its link policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  guardWebContents,
  isAppEntryUrl,
  isTrustedIpcSender,
  navigationAllowed,
  rendererEntryUrl,
  windowOpenDecision,
  type FrameLike,
  type GuardableContents,
  type NavigationEventLike,
  type PreventableEvent,
} from '../../../electron/shell/policy.js';

/** A stand-in for `WebContents`: an event emitter with `setWindowOpenHandler`. */
class FakeContents extends EventEmitter implements GuardableContents {
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpenHandler = handler;
  }
}

/** A stand-in for Electron's `Event`: records `preventDefault`. */
function navigationEvent(url: string, isMainFrame?: boolean): NavigationEventLike & { prevented: boolean } {
  const event = {
    url,
    prevented: false,
    preventDefault() {
      event.prevented = true;
    },
    ...(isMainFrame === undefined ? {} : { isMainFrame }),
  };
  return event;
}

const topFrame = (url: string): FrameLike => ({ url, parent: null });

test('the window loads the app:// entry page, never file://', () => {
  assert.equal(rendererEntryUrl, 'app://wattwise/index.html');
  assert.ok(isAppEntryUrl(rendererEntryUrl));
  assert.ok(isAppEntryUrl('app://wattwise/'));
  assert.ok(isAppEntryUrl('app://wattwise/index.html#token=x'));
  for (const url of [
    'file:///opt/Wattwise/resources/app.asar/dist/renderer/index.html',
    'app://wattwise/other.html',
    'app://evil/index.html',
    'app://wattwise.evil/index.html',
    'app://user@wattwise/index.html',
    'app://wattwise:1/index.html',
    'https://wattwise/index.html',
    'http://127.0.0.1:8765/index.html',
    'not a url',
    '',
    null,
    undefined,
  ]) {
    assert.equal(isAppEntryUrl(url), false, String(url));
  }
});

test('IPC: only the main window top frame showing the app page may call the backend', () => {
  const main = { id: 1 };
  const other = { id: 2 };
  assert.ok(isTrustedIpcSender({ sender: main, senderFrame: topFrame(rendererEntryUrl) }, main));
  assert.ok(isTrustedIpcSender({ sender: main, senderFrame: topFrame(`${rendererEntryUrl}#/energy`) }, main));

  const refused: Array<[string, Parameters<typeof isTrustedIpcSender>[0], unknown]> = [
    ['another webContents', { sender: other, senderFrame: topFrame(rendererEntryUrl) }, main],
    ['no main window yet', { sender: main, senderFrame: topFrame(rendererEntryUrl) }, null],
    ['main window closed', { sender: main, senderFrame: topFrame(rendererEntryUrl) }, undefined],
    ['frame gone', { sender: main, senderFrame: null }, main],
    ['frame missing', { sender: main, senderFrame: undefined }, main],
    ['an iframe', { sender: main, senderFrame: { url: rendererEntryUrl, parent: topFrame(rendererEntryUrl) } }, main],
    ['the old file:// page', { sender: main, senderFrame: topFrame('file:///app/dist/renderer/index.html') }, main],
    ['a page navigated to', { sender: main, senderFrame: topFrame('https://evil.example/index.html') }, main],
    ['another app:// host', { sender: main, senderFrame: topFrame('app://evil/index.html') }, main],
    ['another app page', { sender: main, senderFrame: topFrame('app://wattwise/assets/x.html') }, main],
  ];
  for (const [why, event, trusted] of refused) assert.equal(isTrustedIpcSender(event, trusted), false, why);
});

test('navigation: only the app page itself, in the main frame', () => {
  assert.ok(navigationAllowed(rendererEntryUrl));
  assert.equal(navigationAllowed(rendererEntryUrl, false), false);
  for (const url of ['https://example.org/', 'file:///etc/passwd', 'app://wattwise/other.html', 'javascript:alert(1)', 'data:text/html,x']) {
    assert.equal(navigationAllowed(url), false, url);
  }
});

test('window.open / target=_blank: always denied; only http(s) goes to the OS browser', () => {
  assert.deepEqual(windowOpenDecision('https://example.org/a?b#c'), {
    response: { action: 'deny' },
    openExternally: 'https://example.org/a?b#c',
  });
  for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'ms-msdt:/id PCWDiagnostic', 'app://wattwise/index.html', '/relative', 'smb://host/share', '']) {
    assert.deepEqual(windowOpenDecision(url), { response: { action: 'deny' }, openExternally: null }, url);
  }
});

test('guardWebContents wires the policy to a WebContents stand-in', () => {
  const contents = new FakeContents();
  const opened: string[] = [];
  guardWebContents(contents, (url) => opened.push(url));

  for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
    assert.equal(contents.listenerCount(name), 1, name);
  }

  const away = navigationEvent('https://evil.example/');
  contents.emit('will-navigate', away);
  assert.ok(away.prevented, 'navigation away is prevented');

  const reload = navigationEvent(rendererEntryUrl);
  contents.emit('will-navigate', reload);
  assert.equal(reload.prevented, false, 'reloading the app page is allowed');

  const subframe = navigationEvent(rendererEntryUrl, false);
  contents.emit('will-frame-navigate', subframe);
  assert.ok(subframe.prevented, 'no subframe navigation');

  const fileFrame = navigationEvent('file:///etc/passwd', true);
  contents.emit('will-frame-navigate', fileFrame);
  assert.ok(fileFrame.prevented);

  const redirect = navigationEvent(rendererEntryUrl);
  contents.emit('will-redirect', redirect);
  assert.ok(redirect.prevented, 'redirects are prevented');

  let webviewPrevented = false;
  const webview: PreventableEvent = { preventDefault: () => (webviewPrevented = true) };
  contents.emit('will-attach-webview', webview);
  assert.ok(webviewPrevented, 'webviews are prevented');

  assert.ok(contents.windowOpenHandler);
  assert.deepEqual(contents.windowOpenHandler({ url: 'https://example.org/x' }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler({ url: 'javascript:alert(1)' }), { action: 'deny' });
  assert.deepEqual(opened, ['https://example.org/x'], 'only the http(s) link reached openExternal');
});
