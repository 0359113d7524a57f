/**
 * The example app's build: `halfface` resolves to the built library (npm run build:lib first), as
 * it would from node_modules; the model folder is copied in as static files.
 */
import { cpSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const REPO = resolve(import.meta.dirname, '../..');
const LIB = resolve(REPO, 'dist/lib/halfface.js');

function modelFiles(): Plugin {
  return {
    name: 'example-models',
    apply: 'build',
    closeBundle() {
      cpSync(resolve(REPO, 'models/halfface'), resolve(import.meta.dirname, 'dist/models/halfface'), { recursive: true });
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react(), modelFiles()],
  resolve: { alias: { halfface: existsSync(LIB) ? LIB : resolve(REPO, 'src/index.ts') } },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  preview: { host: '127.0.0.1' },
});
