/**
 * The library as a package: `npm run build:lib`, `npm pack dist/lib`, the tarball unpacked into a
 * fresh app's node_modules the way npm installs it, that app (examples/embed's page, importing
 * 'halfface' by name) built with Vite and opened in Chromium with no camera: it falls back to the
 * built-in demo face and tracks it. Peers (React, three, R3F, tfjs) are linked from this
 * repository's node_modules: tests have no registry.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, REPO_ROOT, watchForeignRequests } from './helpers/e2e-app.js';

const VITE = resolve(REPO_ROOT, 'node_modules/vite/bin/vite.js');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

describe('halfface as an npm package', () => {
  let dir: string;
  let appDir: string;
  let tarball: string;
  let server: PreviewServer | null = null;

  beforeAll(async () => {
    execFileSync(process.execPath, [VITE, 'build', '--config', 'vite.lib.config.ts', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'pipe' });
    dir = mkdtempSync(join(tmpdir(), 'halfface-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', './dist/lib', '--pack-destination', dir, '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' })) as { filename: string }[];
    tarball = join(dir, packed[0].filename);
    appDir = join(dir, 'app');
    const modules = join(appDir, 'node_modules');
    mkdirSync(join(modules, 'halfface'), { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'halfface'), '--strip-components=1']);
    const peers = ['react', 'react-dom', 'scheduler', 'three', '@react-three/fiber', '@pixiv/three-vrm', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm'];
    for (const name of peers) {
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(resolve(REPO_ROOT, 'node_modules', name), join(modules, name), 'dir');
    }
    cpSync(resolve(REPO_ROOT, 'examples/embed/index.html'), join(appDir, 'index.html'));
    cpSync(resolve(REPO_ROOT, 'examples/embed/main.tsx'), join(appDir, 'main.tsx'));
    // The model ships in the package; the app serves it as a static file of its own.
    cpSync(join(modules, 'halfface/models/halfface'), join(appDir, 'public/models/halfface'), { recursive: true });
    await build({
      configFile: false, root: appDir, base: './', logLevel: 'warn', plugins: [react()], worker: { format: 'es' },
      build: { outDir: join(appDir, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('packs the library alone: exports, types, peers, the model, no source maps', () => {
    const listed = files(join(appDir, 'node_modules/halfface')).map((f) => f.slice(join(appDir, 'node_modules/halfface').length + 1));
    expect(listed).toEqual(expect.arrayContaining(['package.json', 'halfface.js', 'types/index.d.ts', 'models/halfface/model.json', 'models/halfface/weights.bin']));
    expect(listed.filter((f) => f.endsWith('.map'))).toEqual([]);
    const bytes = statSync(tarball).size;
    console.log(`[embed-package] ${listed.length} files, tarball ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    expect(bytes).toBeLessThan(6 * 2 ** 20);
  });

  it('an app that installs it builds and runs; with no camera it tracks the demo face', async () => {
    server = await preview({ configFile: false, root: appDir, logLevel: 'warn', build: { outDir: join(appDir, 'dist') }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('preview server has no TCP address');
    // No fake camera: headless Chromium then has no video device at all.
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
      const foreign = watchForeignRequests(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${address.port}/`);
      await page.waitForFunction(() => {
        const m = /^demo face \(no camera\) · ready · (\d+) frames/.exec(document.getElementById('status')?.textContent ?? '');
        return m !== null && Number(m[1]) >= 3;
      }, null, { timeout: 240_000 });
      expect(await page.textContent('#status')).toMatch(/^demo face \(no camera\) · ready · \d+ frames · [a-z]+$/);
      await context.close();
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
