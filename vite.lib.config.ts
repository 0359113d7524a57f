/**
 * npm run build:lib — halfface as an ES module library in dist/lib/, a package of its own
 * (`npm pack dist/lib`):
 *   halfface.js (+ chunks, the tracker worker, the face detector's weights), types/index.d.ts
 *   (tsc --emitDeclarationOnly -p tsconfig.lib.json, run when the bundle is written), the default
 *   model in models/halfface/, and a package.json with exports, types and peerDependencies.
 * Source maps (11 MB, mostly tfjs and face-api) only with HALFFACE_SOURCEMAP=1.
 * React, three, R3F, three-vrm and tfjs are peer dependencies: the app's own copies are used, so an
 * app never ships two three.js or two React. The tracker worker is bundled whole (a worker cannot
 * resolve the app's bare imports).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const PEERS = [/^react($|\/)/, /^react-dom($|\/)/, /^three($|\/)/, /^@react-three\//, /^@pixiv\/three-vrm/, /^@tensorflow\//];

/** Peer packages and the version ranges the library is built and tested with (the repository's own). */
const PEER_PACKAGES = ['react', 'react-dom', 'three', '@react-three/fiber', '@pixiv/three-vrm', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm'];
/** Only needed for the tracker's 'wasm' backend, loaded on demand. */
const OPTIONAL_PEERS = ['@tensorflow/tfjs-backend-wasm'];

/** dist/lib/package.json: the library alone, without the repository's tools and their dependencies. */
function libraryManifest(): string {
  const root = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { name: string; version: string; description: string; dependencies: Record<string, string> };
  const peerDependencies = Object.fromEntries(PEER_PACKAGES.map((name) => {
    const version = root.dependencies[name];
    if (!version) throw new Error(`peer ${name} is not a dependency of the repository: no version to require`);
    return [name, `^${version.replace(/^[\^~]/, '')}`];
  }));
  return JSON.stringify({
    name: root.name,
    version: root.version,
    description: root.description,
    type: 'module',
    main: './halfface.js',
    module: './halfface.js',
    types: './types/index.d.ts',
    exports: {
      '.': { types: './types/index.d.ts', import: './halfface.js' },
      './models/*': './models/*',
      './package.json': './package.json',
    },
    peerDependencies,
    peerDependenciesMeta: Object.fromEntries(OPTIONAL_PEERS.map((name) => [name, { optional: true }])),
  }, null, 2) + '\n';
}

function declarations(): Plugin {
  return {
    name: 'halfface-declarations',
    apply: 'build',
    closeBundle() {
      const tsc = resolve(import.meta.dirname, 'node_modules/typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-p', resolve(import.meta.dirname, 'tsconfig.lib.json')], { stdio: 'inherit' });
      const out = resolve(import.meta.dirname, 'dist/lib');
      writeFileSync(resolve(out, 'package.json'), libraryManifest());
      cpSync(resolve(import.meta.dirname, 'models/halfface'), resolve(out, 'models/halfface'), { recursive: true });
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
    sourcemap: process.env.HALFFACE_SOURCEMAP === '1',
    copyPublicDir: false,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'halfface' },
    rollupOptions: { external: (id) => PEERS.some((p) => p.test(id)) },
  },
});
