import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const MODELS_DIR = resolve(import.meta.dirname, 'models');
const TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream', '.md': 'text/markdown' };

/**
 * Serves /models/... straight from the repository's models/ folder (no copy to keep in sync), so a
 * retrained model is picked up on reload; `vite build` emits the same files into dist/models/.
 */
function modelsFolder(): Plugin {
  const serve = (url: string | undefined, res: ServerResponse, next: () => void) => {
    const path = decodeURIComponent((url ?? '').split('?')[0]);
    if (!path.startsWith('/models/')) return next();
    const file = resolve(MODELS_DIR, path.slice('/models/'.length));
    if (!file.startsWith(MODELS_DIR + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.statusCode = 404;
      res.end(`no such model file: ${path}`);
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Cache-Control', 'no-cache');
    createReadStream(file).pipe(res);
  };
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  return {
    name: 'halfface-models-folder',
    configureServer(server) { server.middlewares.use((req, res, next) => serve(req.url, res, next)); },
    configurePreviewServer(server) { server.middlewares.use((req, res, next) => serve(req.url, res, next)); },
    generateBundle() {
      for (const file of walk(MODELS_DIR)) {
        this.emitFile({ type: 'asset', fileName: `models/${relative(MODELS_DIR, file).split(sep).join('/')}`, source: readFileSync(file) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), modelsFolder()],
  // Not a single-page app: an unknown path (?model=/typo.json, ?avatar=/typo.vrm) must answer 404,
  // not index.html with status 200, or the app cannot tell a missing file from a corrupt one.
  appType: 'mpa',
  worker: { format: 'es' },
  // Listed up front (the worker's too) so Vite never discovers a dependency mid-session and reloads
  // the page or strands the tracker worker on an outdated pre-bundle.
  optimizeDeps: {
    entries: ['index.html', 'src/tracker/worker.ts', 'src/tracker/detector.ts'],
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgl', '@vladmandic/face-api/dist/face-api.esm-nobundle.js', 'iwer'],
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
