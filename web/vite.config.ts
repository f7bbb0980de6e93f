/**
 * Vite build of ferkit's web app (web/dist/). scripts/serve-web.mjs runs it and serves the result
 * with the models (/models/) and onnxruntime-web's .mjs/.wasm files (/ort/) under COOP/COEP.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  // No public/ folder: models and onnxruntime-web's WASM are served by scripts/serve-web.mjs.
  publicDir: false,
  resolve: {
    // onnxruntime-web's non-bundled builds: the .wasm stays a separate file loaded from /ort/.
    conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'production'],
  },
  build: {
    outDir: resolve(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1000,
    rollupOptions: {
      input: { index: resolve(here, 'index.html'), example: resolve(here, 'example.html') },
    },
  },
  worker: { format: 'es' },
  logLevel: 'warn',
});
