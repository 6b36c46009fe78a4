/**
 * The sandboxed preload (bundled to dist/electron/preload.cjs by scripts/build-electron.mjs).
 *
 * Exposes exactly the {@link WattwiseBridge} on `window.wattwise`: `call` for the contract's methods
 * (anything else is refused here, before it reaches the main process, which validates again) and
 * `onEvent`. No Node or Electron object leaks to the page: only plain data crosses.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { apiEventSchema, ipcChannels, isApiMethod, type ApiEvent, type ApiResult, type WattwiseBridge } from '../../shared/contract.js';

const bridge: WattwiseBridge = {
  call: (method, input) => {
    if (!isApiMethod(method)) {
      return Promise.resolve({ ok: false, error: { code: 'BAD_INPUT', message: `Unknown method ${String(method)}` } }) as never;
    }
    return ipcRenderer.invoke(ipcChannels.call, method, input) as Promise<ApiResult<never>>;
  },
  onEvent: (listener) => {
    const handler = (_event: IpcRendererEvent, payload: unknown) => {
      const parsed = apiEventSchema.safeParse(payload);
      if (parsed.success) listener(parsed.data as ApiEvent);
    };
    ipcRenderer.on(ipcChannels.event, handler);
    return () => {
      ipcRenderer.removeListener(ipcChannels.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('wattwise', bridge);
