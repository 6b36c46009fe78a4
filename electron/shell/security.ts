/**
 * Electron hardening applied to every window (Electron security checklist,
 * https://www.electronjs.org/docs/latest/tutorial/security): no permissions ("Handle session permission
 * requests from remote content"), and, through the pure {@link guardWebContents} (`policy.ts`, unit-tested),
 * no navigation away from the app, no redirects, no webviews, no new windows, external links only for
 * http(s) and only through the OS browser.
 */
import { app, session, shell, type WebContents } from 'electron';
import { guardWebContents } from './policy.js';

/** Applies the hardening; call once before the first window opens. */
export function hardenApp(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents: WebContents) => {
    // Only http(s) URLs reach openExternal (policy.ts → shared/links.ts externalLinkHref).
    guardWebContents(contents, (url) => void shell.openExternal(url)); /* eng-disable OPEN_EXTERNAL_JS_CHECK */
  });
}
