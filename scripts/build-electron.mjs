#!/usr/bin/env node
// Bundles the Electron main process (ESM) and the sandboxed preload (CommonJS, a single file: a sandboxed
// preload cannot require other files) into dist/electron with esbuild. npm packages stay external in
// main (node-llama-cpp and better-sqlite3 carry native code); the preload bundles what it imports.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: true, logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['electron/shell/main.ts'],
  outfile: 'dist/electron/main.js',
  format: 'esm',
  packages: 'external',
  external: ['electron'],
});

await build({
  ...common,
  entryPoints: ['electron/shell/preload.ts'],
  outfile: 'dist/electron/preload.cjs',
  format: 'cjs',
  external: ['electron'],
});
console.log('built dist/electron/main.js and dist/electron/preload.cjs');
