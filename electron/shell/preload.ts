/**
 * The sandboxed preload (bundled to dist/electron/preload.cjs by scripts/build-electron.mjs).
 *
 * Exposes exactly the {@link WattwiseBridge} on `window.wattwise`: `call` (the main process checks the
 * sender, that the method is in the contract, and validates the input with its zod schema) and `onEvent`.
 * No Node or Electron object leaks to the page: only plain data crosses. It imports no zod, so it stays tiny.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ipcChannels } from '../../shared/ipc.js';
import type { ApiEvent, ApiResult, WattwiseBridge } from '../../shared/contract.js';

const bridge: WattwiseBridge = {
  call: (method, input) => {
    if (typeof method !== 'string') {
      return Promise.resolve({ ok: false, error: { code: 'BAD_INPUT', message: 'Method must be a string' } }) as never;
    }
    return ipcRenderer.invoke(ipcChannels.call, method, input) as Promise<ApiResult<never>>;
  },
  onEvent: (listener) => {
    const handler = (_event: IpcRendererEvent, payload: ApiEvent) => listener(payload);
    ipcRenderer.on(ipcChannels.event, handler);
    return () => {
      ipcRenderer.removeListener(ipcChannels.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('wattwise', bridge);
