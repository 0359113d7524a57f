/**
 * What `npm run build` ships: the app, the one model it loads, the controller profiles it serves,
 * and no emulator rooms. Builds the real vite.config.ts into a temp folder, then runs the built app
 * (vite preview, Chromium) through tracking and an emulated VR session with a silent console.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newContext, REPO_ROOT, watchForeignRequests } from './helpers/e2e-app.js';

const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

describe('npm run build', () => {
  let out: string;
  let shipped: { path: string; bytes: number }[];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'halfface-build-'));
    // vitest sets NODE_ENV=test, and Vite builds React's development bundle for any NODE_ENV but
    // production: build as `npm run build` does.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, mode: 'production', logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    shipped = files(out).map((f) => ({ path: relative(out, f).split('\\').join('/'), bytes: statSync(f).size }));
  });
  afterAll(() => { if (out) rmSync(out, { recursive: true, force: true }); });

  it('ships the default model only, and its files match the repository', () => {
    const models = shipped.filter((f) => f.path.startsWith('models/')).map((f) => f.path).sort();
    expect(models).toEqual(readdirSync(resolve(REPO_ROOT, 'models/halfface')).map((f) => `models/halfface/${f}`).sort());
    expect(readFileSync(join(out, 'models/halfface/weights.bin')).equals(readFileSync(resolve(REPO_ROOT, 'models/halfface/weights.bin')))).toBe(true);
  });

  it('ships no emulator rooms and no @react-three/xr emulator; iwer stays a lazy chunk for ?xr=emulate', () => {
    const js = shipped.filter((f) => f.path.endsWith('.js'));
    expect(js.filter((f) => /living_room|music_room|meeting_room|office_(small|large)|emulate-/.test(f.path))).toEqual([]);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const entry = /src="\/(assets\/index-[^"]+\.js)"/.exec(index)?.[1];
    expect(entry).toBeDefined();
    // iwer (its runtime carries the string IWER) sits in a chunk of its own, fetched only for ?xr=emulate.
    const iwer = js.filter((f) => readFileSync(join(out, f.path), 'utf8').includes('IWER')).map((f) => f.path);
    expect(iwer).toHaveLength(1);
    expect(iwer[0]).not.toBe(entry);
  });

  it('serves controller profiles from our origin and the avatar to try, and stays under 20 MB in all', () => {
    const list = JSON.parse(readFileSync(join(out, 'xr-input-profiles/profilesList.json'), 'utf8')) as Record<string, { path: string }>;
    for (const { path } of Object.values(list)) expect(shipped.some((f) => f.path === `xr-input-profiles/${path}`), path).toBe(true);
    expect(Object.keys(list)).toEqual(expect.arrayContaining(['meta-quest-touch-plus', 'generic-trigger', 'generic-hand']));
    expect(shipped.map((f) => f.path)).toContain('avatars/halfface-head.glb');
    const total = shipped.reduce((n, f) => n + f.bytes, 0);
    console.log(`[app-build] ${shipped.length} files, ${(total / 2 ** 20).toFixed(1)} MiB`);
    expect(total).toBeLessThan(20 * 2 ** 20);
  });

  it('the built app tracks the demo face and enters VR with nothing on the console', async () => {
    const server = await preview({ configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'warn', build: { outDir: out }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('vite preview has no TCP address');
    const browser = await launchChromium();
    try {
      const context = await newContext(browser, `http://127.0.0.1:${address.port}`);
      const foreign = watchForeignRequests(context);
      const page = await context.newPage();
      const said: string[] = [];
      page.on('console', (m) => { if (m.type() !== 'debug') said.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => said.push(`pageerror: ${e.message}`));
      await page.goto('/?input=demo&xr=emulate', { waitUntil: 'domcontentloaded', timeout: 120_000 });
      await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 240_000 });
      expect((await page.evaluate(() => window.__halfface!)).trackerInWorker).toBe(true);
      await page.getByTestId('enter-vr').click();
      await page.waitForFunction(() => window.__halfface!.xrFrames > 10, undefined, { timeout: 120_000 });
      await context.close();
      // iwer announces the emulated display's refresh rate with a console.log; everything else is noise.
      expect(said.filter((line) => !/^log: Nominal frame rate updated to \d+$/.test(line))).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
      await new Promise<void>((r) => server.httpServer.close(() => r()));
    }
  });
});
