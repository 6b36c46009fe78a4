/**
 * The shell's security decisions as pure functions over plain data, so they are unit-tested with stand-ins
 * for Electron's objects (no `electron` import). `security.ts` and `main.ts` wire them to the real events.
 * Each follows an item of Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security):
 * - "Validate the sender of all IPC messages" → {@link isTrustedIpcSender};
 * - "Disable or limit navigation" → {@link navigationAllowed}, {@link guardWebContents};
 * - "Disable or limit creation of new windows" and "Do not use shell.openExternal with untrusted content"
 *   → {@link windowOpenDecision};
 * - "Do not use <webview>" (`will-attach-webview` is always prevented).
 */
import { externalLinkHref } from '../../shared/links.js';
import { appEntryUrl, appHost, appScheme } from './appProtocol.js';

/**
 * Whether `url` is the renderer's own page, `app://wattwise/index.html` (or `app://wattwise/`), with any
 * query or fragment. Compares scheme, host, port and credentials explicitly: Node's `URL.origin` is
 * `"null"` for schemes it does not know, so it cannot be compared.
 */
export function isAppEntryUrl(url: string | null | undefined): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${appScheme}:` &&
    parsed.host === appHost &&
    parsed.username === '' &&
    parsed.password === '' &&
    (parsed.pathname === '/index.html' || parsed.pathname === '/')
  );
}

/** The part of a frame (`WebFrameMain`) the sender check reads. */
export interface FrameLike {
  readonly url: string;
  /** `null` for a top-level frame. */
  readonly parent: unknown;
}

/** The part of an `IpcMainInvokeEvent` the sender check reads. */
export interface IpcEventLike {
  readonly sender: unknown;
  /** `null` when the frame navigated away or was destroyed before the message was handled. */
  readonly senderFrame: FrameLike | null | undefined;
}

/**
 * Only our own page, in the top frame of our own window, may call the backend: the sender must be
 * `trustedContents` (the main window's `webContents`), the frame must still exist and be top-level, and its
 * URL must be the app's entry page on the `app://` origin. Anything else (another window, an iframe, a page
 * the window navigated to, a `file://` page) is refused.
 */
export function isTrustedIpcSender(event: IpcEventLike, trustedContents: unknown): boolean {
  if (trustedContents === null || trustedContents === undefined) return false;
  if (event.sender !== trustedContents) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppEntryUrl(frame.url);
}

/**
 * Whether a window may navigate to `url`: only to the app's own entry page (a reload of itself), and only in
 * the main frame. Everything else, including http(s) links, is prevented: links open through
 * {@link windowOpenDecision} (the renderer gives them `target="_blank"`), never inside the app window.
 */
export function navigationAllowed(url: string, isMainFrame = true): boolean {
  return isMainFrame && isAppEntryUrl(url);
}

/** What `setWindowOpenHandler` answers, plus the link to hand to the OS browser, if any. */
export interface WindowOpenDecision {
  /** Always `deny`: the app never opens a second window. */
  response: { action: 'deny' };
  /** The normalized http(s) URL to open in the user's browser, or `null` to drop the request. */
  openExternally: string | null;
}

/**
 * A `window.open` or `target="_blank"` link (a link the user clicked in a reply): never a new app window;
 * absolute http(s) URLs go to the user's browser, everything else (`file:`, `javascript:`, custom schemes
 * such as `ms-msdt:`, relative URLs, the app's own origin) is dropped.
 */
export function windowOpenDecision(url: string): WindowOpenDecision {
  return { response: { action: 'deny' }, openExternally: externalLinkHref(url) };
}

/** An event that can be cancelled (Electron's `Event`). */
export interface PreventableEvent {
  preventDefault(): void;
}

/** A navigation event (`will-navigate`, `will-redirect`, `will-frame-navigate`). */
export interface NavigationEventLike extends PreventableEvent {
  readonly url: string;
  /** Present on `will-frame-navigate`. */
  readonly isMainFrame?: boolean;
}

/** The part of `WebContents` {@link guardWebContents} uses (a real `WebContents` fits). */
export interface GuardableContents {
  on(event: 'will-navigate', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Applies the navigation, redirect, webview and new-window policy to one `WebContents`;
 * `openExternal` receives only URLs that {@link windowOpenDecision} allows out (the shell passes
 * `shell.openExternal`).
 */
export function guardWebContents(contents: GuardableContents, openExternal: (url: string) => void): void {
  const guardNavigation = (event: NavigationEventLike) => {
    if (!navigationAllowed(event.url, event.isMainFrame ?? true)) event.preventDefault();
  };
  contents.on('will-navigate', guardNavigation);
  contents.on('will-frame-navigate', guardNavigation);
  // The app:// handler never redirects; a redirect can only come from somewhere else.
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const decision = windowOpenDecision(url);
    if (decision.openExternally) openExternal(decision.openExternally);
    return decision.response;
  });
}

/** The URL the main window loads (re-exported for the shell). */
export const rendererEntryUrl = appEntryUrl;
