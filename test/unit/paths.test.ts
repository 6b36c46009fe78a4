import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultDataDir, resolveModelsDir } from '../../electron/core/paths.js';

test('the data dir matches Electron userData on each OS, and WATTWISE_DATA_DIR wins', () => {
  assert.equal(defaultDataDir({}, 'linux'), join(homedir(), '.config', 'Wattwise'));
  assert.equal(defaultDataDir({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux'), join('/x/cfg', 'Wattwise'));
  assert.equal(defaultDataDir({}, 'darwin'), join(homedir(), 'Library', 'Application Support', 'Wattwise'));
  assert.equal(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32'), join('C:\\Users\\a\\AppData\\Roaming', 'Wattwise'));
  assert.equal(defaultDataDir({ WATTWISE_DATA_DIR: 'rel/data' }, 'linux'), resolve('rel/data'));
});

test('models dir precedence: setting, then --models-dir, then WATTWISE_MODELS_DIR, then <data>/models', () => {
  const dataDir = '/d';
  assert.equal(resolveModelsDir({ dataDir, setting: null, env: {} }), join('/d', 'models'));
  assert.equal(resolveModelsDir({ dataDir, setting: null, env: { WATTWISE_MODELS_DIR: '/env' } }), '/env');
  assert.equal(resolveModelsDir({ dataDir, setting: null, override: '/flag', env: { WATTWISE_MODELS_DIR: '/env' } }), '/flag');
  assert.equal(resolveModelsDir({ dataDir, setting: '/set', override: '/flag', env: { WATTWISE_MODELS_DIR: '/env' } }), '/set');
});
