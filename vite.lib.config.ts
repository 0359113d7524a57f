/**
 * npm run build:lib — halfface as an ES module library in dist/lib/:
 *   halfface.js (+ chunks, the tracker worker, the face detector's weights) and types/index.d.ts
 *   (tsc --emitDeclarationOnly -p tsconfig.lib.json, run when the bundle is written).
 * React, three, R3F, three-vrm and tfjs are peer dependencies: the app's own copies are used, so an
 * app never ships two three.js or two React. The tracker worker is bundled whole (a worker cannot
 * resolve the app's bare imports).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const PEERS = [/^react($|\/)/, /^react-dom($|\/)/, /^three($|\/)/, /^@react-three\//, /^@pixiv\/three-vrm/, /^@tensorflow\//];

function declarations(): Plugin {
  return {
    name: 'halfface-declarations',
    apply: 'build',
    closeBundle() {
      const tsc = resolve(import.meta.dirname, 'node_modules/typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-p', resolve(import.meta.dirname, 'tsconfig.lib.json')], { stdio: 'inherit' });
    },
  };
}

export default defineConfig({
  plugins: [react(), declarations()],
  // Relative URLs for the worker and its chunks: the library is served from wherever the app puts it.
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    copyPublicDir: false,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'halfface' },
    rollupOptions: { external: (id) => PEERS.some((p) => p.test(id)) },
  },
});
