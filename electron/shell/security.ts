/**
 * Electron hardening applied to every window (Electron security checklist,
 * https://www.electronjs.org/docs/latest/tutorial/security): no navigation, no new windows, no
 * webviews, no permissions, external links only for http(s) and only through the OS browser.
 */
import { app, session, shell, type WebContents } from 'electron';
import { externalLinkHref } from '../../shared/links.js';


/** Applies the hardening; call once before the first window opens. */
export function hardenApp(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // A link the user clicked in a reply: open it in their browser if it is http(s), never in the app.
      const href = externalLinkHref(url);
      if (href) void shell.openExternal(href);
      return { action: 'deny' };
    });
  });
}
