/**
 * Where Wattwise keeps its data and looks for models, without Electron (so the CLI, the browser mode and
 * the tests agree with the desktop app).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The app's name as Electron derives it from package.json `productName`; the user-data folder is named after it. */
export const appName = 'Wattwise';

/**
 * The folder Electron's `app.getPath('userData')` returns for this app: `appData` + `appName`, where
 * appData is `%APPDATA%` on Windows, `~/Library/Application Support` on macOS and `$XDG_CONFIG_HOME`
 * (default `~/.config`) elsewhere (Electron docs, `app.getPath`).
 *
 * @param env Environment to read (tests pass their own). `WATTWISE_DATA_DIR` overrides everything.
 * @param platform `process.platform` value.
 * @returns An absolute path; the folder may not exist yet.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.WATTWISE_DATA_DIR) return resolve(env.WATTWISE_DATA_DIR);
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), appName);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', appName);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), appName);
}

/** The SQLite file inside a data dir. */
export function databasePath(dataDir: string): string {
  return join(dataDir, 'wattwise.sqlite');
}

/**
 * The models folder in effect. Precedence: the in-app setting (`settings.modelsDir`), then an explicit
 * override (CLI `--models-dir`), then `WATTWISE_MODELS_DIR`, then `<dataDir>/models`.
 */
export function resolveModelsDir(options: {
  dataDir: string;
  setting: string | null;
  override?: string | null;
  env?: NodeJS.ProcessEnv;
}): string {
  const env = options.env ?? process.env;
  if (options.setting) return resolve(options.setting);
  if (options.override) return resolve(options.override);
  if (env.WATTWISE_MODELS_DIR) return resolve(env.WATTWISE_MODELS_DIR);
  return join(options.dataDir, 'models');
}
