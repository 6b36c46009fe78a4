/**
 * The Electron main process: the thin shell around the Node backend. It owns the window, the sandboxed
 * preload, the IPC binding of the API contract and the app lifecycle; everything else (store, engine,
 * backend) is the same code the CLI and the browser mode run.
 */
import { app, BrowserWindow, ipcMain, powerMonitor, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ipcChannels } from '../../shared/ipc.js';
import type { Backend } from '../core/backend.js';
import { openRuntime } from '../core/runtime.js';
import { hardenApp } from './security.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/electron
const rendererIndex = join(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;

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

/** Only our own page in our own window may call the backend. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  return mainWindow !== null && event.sender === mainWindow.webContents && event.senderFrame?.url.split('#')[0] === rendererUrl;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 760,
    minHeight: 520,
    title: 'Wattwise',
    show: false,
    backgroundColor: '#101413',
    webPreferences: {
      preload: join(here, 'preload.cjs'),
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
  void win.loadFile(rendererIndex);
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
  backend = await openRuntime({
    dataDir: process.env.WATTWISE_DATA_DIR ?? app.getPath('userData'),
    transport: 'ipc',
    nativeBinding: electronNativeBinding(),
    version: app.getVersion(),
  });
  ipcMain.handle(ipcChannels.call, async (event, method: unknown, input: unknown) => {
    if (!isTrustedSender(event)) {
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
