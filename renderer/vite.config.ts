import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The renderer is loaded from file:// in Electron and from the local HTTP server in browser mode,
// so every asset URL is relative (`base: './'`).
export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [react()],
  resolve: {
    alias: { '@shared': here('../shared') },
  },
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One JS file and one CSS file; nothing is inlined (the CSP forbids inline scripts and styles).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    fs: { allow: [here('..')] },
  },
});
