import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import basicSsl from '@vitejs/plugin-basic-ssl';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const MODELS_DIR = resolve(import.meta.dirname, 'models');
const PROFILES_DIR = resolve(import.meta.dirname, 'node_modules/@webxr-input-profiles/assets/dist/profiles');
const TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream', '.md': 'text/markdown', '.glb': 'model/gltf-binary', '.vrm': 'model/gltf-binary' };

/**
 * WebXR controller profiles the app serves (the whole package is 98 MB): the controllers of the
 * headsets we target, hands, and generic-trigger, the loader's fallback for any other controller.
 * main.tsx points @react-three/xr here instead of its default, a CDN.
 */
const XR_PROFILES = [
  'meta-quest-touch-plus', 'meta-quest-touch-pro', 'oculus-touch-v3', 'oculus-touch-v2',
  'pico-4', 'pico-4u', 'generic-hand', 'generic-trigger',
];

/** profilesList.json cut down to the profiles we serve, so no controller is sent to a missing file. */
function profilesList(): string {
  const all = JSON.parse(readFileSync(join(PROFILES_DIR, 'profilesList.json'), 'utf8')) as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(Object.entries(all).filter(([id]) => XR_PROFILES.includes(id))), null, 2);
}

interface Folder {
  prefix: string;
  dir: string;
  files(): string[];
  /** what `vite build` emits (default: files()); dev and preview serve all of files() */
  buildFiles?(): string[];
  generated?: Record<string, () => string>;
}

/** The files under a folder, as '/'-separated paths relative to it. */
const walk = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name)).split(sep).join('/')]));

/**
 * Serves folders straight from disk (no copy to keep in sync) in dev and preview, with 404 for
 * anything else under their prefix; `vite build` emits the same files.
 *   /models/...             the repository's models/ folder: a retrained model is picked up on reload
 *   /avatars/...            assets/avatars: avatars to try
 *   /xr-input-profiles/...  the controller profiles in XR_PROFILES
 */
function servedFolders(folders: Folder[]): Plugin {
  const serve = (url: string | undefined, res: ServerResponse, next: () => void) => {
    const path = decodeURIComponent((url ?? '').split('?')[0]);
    const folder = folders.find((f) => path.startsWith(f.prefix));
    if (!folder) return next();
    const name = path.slice(folder.prefix.length);
    const generated = folder.generated?.[name];
    const file = resolve(folder.dir, name);
    if (!generated && (!file.startsWith(folder.dir + sep) || !folder.files().includes(name))) {
      res.statusCode = 404;
      res.end(`no such file: ${path}`);
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(name)] ?? 'application/octet-stream');
    res.setHeader('Cache-Control', 'no-cache');
    if (generated) res.end(generated());
    else createReadStream(file).pipe(res);
  };
  return {
    name: 'halfface-served-folders',
    configureServer(server) { server.middlewares.use((req, res, next) => serve(req.url, res, next)); },
    configurePreviewServer(server) { server.middlewares.use((req, res, next) => serve(req.url, res, next)); },
    generateBundle() {
      for (const folder of folders) {
        const at = folder.prefix.slice(1);
        for (const name of (folder.buildFiles ?? folder.files)()) this.emitFile({ type: 'asset', fileName: at + name, source: readFileSync(join(folder.dir, name)) });
        for (const [name, make] of Object.entries(folder.generated ?? {})) this.emitFile({ type: 'asset', fileName: at + name, source: make() });
      }
    },
  };
}

/**
 * The app loads one model (DEFAULT_MODEL_URL, models/halfface); the pipeline's other exports stay
 * available to ?model= on the dev server but are not shipped (16 MB → 2.4 MB).
 */
const modelsFolder: Folder = {
  prefix: '/models/',
  dir: MODELS_DIR,
  files: () => walk(MODELS_DIR),
  buildFiles: () => walk(join(MODELS_DIR, 'halfface')).map((f) => `halfface/${f}`),
};
/** Avatars to try (?avatar=/avatars/halfface-head.glb): assets/avatars, with their licence note in assets/. */
const avatarsFolder: Folder = { prefix: '/avatars/', dir: resolve(import.meta.dirname, 'assets/avatars'), files: () => walk(resolve(import.meta.dirname, 'assets/avatars')) };
const profilesFolder: Folder = {
  prefix: '/xr-input-profiles/',
  dir: PROFILES_DIR,
  files: () => XR_PROFILES.flatMap((id) => walk(join(PROFILES_DIR, id)).map((f) => `${id}/${f}`)),
  generated: { 'profilesList.json': profilesList },
};

/**
 * @react-three/xr imports its emulator (iwer's dev UI and five synthetic rooms, 5.7 MB of chunks) for
 * its `emulate` option, which the app turns off: ?xr=emulate installs iwer itself (main.tsx). The
 * module is replaced by one that says so, and the rooms are never emitted.
 */
function withoutXrStoreEmulator(): Plugin {
  const STUB = '\0halfface-no-xr-emulator';
  return {
    name: 'halfface-without-xr-store-emulator',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './emulate.js' && importer && /[\\/]@pmndrs[\\/]xr[\\/]dist[\\/]/.test(importer)) return STUB;
      return null;
    },
    load(id) {
      if (id !== STUB) return null;
      return `export function emulate() { throw new Error('the @react-three/xr emulator is not bundled: open the app with ?xr=emulate (iwer)'); }`;
    },
  };
}

/**
 * `npm run start:https` (mode 'lan'): HTTPS with a locally generated, self-signed certificate, on
 * every network interface, so a headset on the same Wi-Fi gets a secure context (WebXR and the
 * camera need one). Vite prints the Network URLs to open in the headset; the browser asks once to
 * accept the certificate.
 */
export default defineConfig(({ mode }) => ({
  plugins: [react(), servedFolders([modelsFolder, avatarsFolder, profilesFolder]), withoutXrStoreEmulator(), ...(mode === 'lan' ? [basicSsl({ name: 'halfface-lan' })] : [])],
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
  server: { host: mode === 'lan' ? '0.0.0.0' : '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
}));
