/**
 * The Electron main process: the thin shell around the Node backend. It owns the window, the sandboxed
 * preload, the IPC binding of the API contract, the `app://` scheme that serves the renderer and the app
 * lifecycle; everything else (store, engine, backend) is the same code the CLI and the browser mode run.
 * The decisions (sender check, navigation and link policy, request → file mapping) live in the pure
 * `policy.ts` and `appProtocol.ts`, which the unit tests exercise without Electron.
 */
import { app, BrowserWindow, ipcMain, powerMonitor, protocol } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipcChannels } from '../../shared/ipc.js';
import type { Backend } from '../core/backend.js';
import { openRuntime } from '../core/runtime.js';
import { ApiServerController } from '../server/openai/controller.js';
import { appScheme, appSchemePrivileges, serveAppRequest } from './appProtocol.js';
import { isTrustedIpcSender, rendererEntryUrl } from './policy.js';
import { hardenApp } from './security.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/electron
/** The renderer build, served as app://wattwise/ (never loaded from file://: the fuse is off when packaged). */
const rendererDir = join(here, '..', 'renderer');
/** Linux takes the window icon from here (macOS and Windows from the bundle); absent in a dev tree without it. */
const linuxWindowIcon = join(here, '..', '..', 'resources', 'icons', '512x512.png');

// Must run before the app is ready, and only once (it replaces earlier registrations).
protocol.registerSchemesAsPrivileged([{ scheme: appScheme, privileges: appSchemePrivileges }]);

/**
 * better_sqlite3.node built for Electron's ABI: packaged apps carry it in resources/native; `npm start`
 * builds it into .cache/electron-native/<electron version>/ (scripts/prepare-electron.mjs).
 */
function electronNativeBinding(): string | undefined {
  const candidates = [
    join(process.resourcesPath ?? '', 'native', 'better_sqlite3.node'),
    join(here, '..', '..', '.cache', 'electron-native', process.versions.electron ?? '', 'better_sqlite3.node'),
  ];
  return candidates.find((p) => existsSync(p));
}

let backend: Backend | null = null;
let mainWindow: BrowserWindow | null = null;

/**
 * The one app window. webPreferences follow Electron's security checklist: context isolation, the sandbox,
 * no Node integration, web security on, no insecure content, no <webview>.
 * Reviewed electronegativity findings (scripts/electronegativity.ts), silenced on their lines:
 * - AUXCLICK_JS_CHECK: a middle click on a link asks for a new window, which `setWindowOpenHandler`
 *   (policy.ts) always denies (only http(s) goes to the OS browser); no navigation is allowed either.
 * - PRELOAD_JS_CHECK: the preload is our own sandboxed bundle and exposes only the two-function bridge
 *   (`call` checked against the contract and zod schemas in the main process, `onEvent`), no Node or
 *   Electron object (preload.ts).
 */
function createWindow(): BrowserWindow {
  const win = new BrowserWindow({ /* eng-disable AUXCLICK_JS_CHECK */
    width: 1280,
    height: 820,
    minWidth: 760,
    minHeight: 520,
    title: 'Wattwise',
    show: false,
    backgroundColor: '#101413',
    ...(process.platform === 'linux' && existsSync(linuxWindowIcon) ? { icon: linuxWindowIcon } : {}),
    webPreferences: {
      preload: join(here, 'preload.cjs'), /* eng-disable PRELOAD_JS_CHECK */
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(rendererEntryUrl);
  return win;
}

async function start(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  hardenApp();
  protocol.handle(appScheme, (request) => serveAppRequest(request, rendererDir));
  backend = await openRuntime({
    dataDir: process.env.WATTWISE_DATA_DIR ?? app.getPath('userData'),
    transport: 'ipc',
    nativeBinding: electronNativeBinding(),
    version: app.getVersion(),
  });
  // The local OpenAI-compatible API (Settings → Local API; off by default).
  await backend.attachApiServer(new ApiServerController(backend));
  ipcMain.handle(ipcChannels.call, async (event, method: unknown, input: unknown) => {
    if (!isTrustedIpcSender(event, mainWindow?.webContents)) {
      return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Untrusted sender' } };
    }
    return backend!.call(method, input);
  });
  backend.onEvent((payload) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(ipcChannels.event, payload);
  });
  // The OS's power events feed the same telemetry stream: AC/battery switches and resumes re-read the
  // sensors at once (the governor then switches profile), thermal pressure derates the governor's speeds.
  const rereadSensors = () => backend?.notifyPowerChange();
  powerMonitor.on('on-ac', rereadSensors);
  powerMonitor.on('on-battery', rereadSensors);
  powerMonitor.on('resume', rereadSensors);
  powerMonitor.on('thermal-state-change', (details) => {
    backend?.setThermalThrottled(details.state === 'serious' || details.state === 'critical');
  });
  mainWindow = createWindow();
  app.on('second-instance', () => {
    // Also after the window was closed while downloads went on in the background.
    if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createWindow();
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !backend) return;
  // Abort replies in flight and wait until their partial text is stored before the process exits.
  event.preventDefault();
  quitting = true;
  void backend.dispose().finally(() => app.quit());
});
app.on('window-all-closed', () => {
  if (process.platform === 'darwin') return;
  // Downloads go on after the window closes; the app quits when they are done (opening Wattwise again
  // brings the window back through 'second-instance').
  if (backend?.library.downloading()) {
    void backend.library.idle().then(() => {
      if (BrowserWindow.getAllWindows().length === 0) app.quit();
    });
    return;
  }
  app.quit();
});

start().catch((error: unknown) => {
  console.error('Wattwise failed to start:', error);
  app.exit(1);
});
