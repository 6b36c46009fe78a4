/**
 * Which links from model output may ever leave the app: absolute http(s) URLs only. The renderer renders
 * nothing else as a link, and the Electron shell hands nothing else to `shell.openExternal` (a chat
 * client that passed model-written `file:`/custom-scheme links to openExternal got remote code execution).
 */

/**
 * The normalized URL if `href` is an absolute `http:` or `https:` URL, else `null` (relative, malformed,
 * `javascript:`, `data:`, `file:`, `vbscript:`, custom schemes...).
 */
export function externalLinkHref(href: string | null | undefined): string | null {
  if (!href) return null;
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
