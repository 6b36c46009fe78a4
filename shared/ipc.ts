/**
 * Electron IPC channel names, in a module without dependencies so the sandboxed preload stays a few
 * hundred bytes (it must not bundle zod). Preload and main both import these, so they cannot disagree.
 */
export const ipcChannels = {
  /** renderer → main, `invoke(method: string, input: unknown)` → `ApiResult`. */
  call: 'wattwise:call',
  /** main → renderer, one `ApiEvent` per message. */
  event: 'wattwise:event',
} as const;
