/**
 * The embeddable package end to end: `npm run build:lib` (ES module + declarations), the example in
 * examples/embed built against dist/lib as an app would, served on 127.0.0.1 and opened in Debian
 * Chromium with its fake camera: the library's tracker runs on the camera and drives the avatar.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');
const VITE = resolve(REPO, 'node_modules/vite/bin/vite.js');
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];

let server: PreviewServer;
let browser: Browser;

beforeAll(() => {
  execFileSync(process.execPath, [VITE, 'build', '--config', 'vite.lib.config.ts', '--logLevel', 'warn'], { cwd: REPO, stdio: 'pipe' });
  execFileSync(process.execPath, [VITE, 'build', '--config', 'examples/embed/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO, stdio: 'pipe' });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('library build', () => {
  it('emits the ES module and the declarations of the public API', () => {
    const js = readFileSync(resolve(REPO, 'dist/lib/halfface.js'), 'utf8');
    // peers stay imports: the app's one copy of React and three is used
    for (const peer of ['react', 'three', '@react-three/fiber']) expect(js).toMatch(new RegExp(`from "${peer}"`));
    expect(js).not.toMatch(/REACT_ELEMENT_TYPE\s*=|class WebGLRenderer/);
    // the worker is found next to the library wherever it is served from
    expect(js).toMatch(/new URL\("assets\/worker-[\w-]+\.js", import\.meta\.url\)/);
    const dts = readFileSync(resolve(REPO, 'dist/lib/types/index.d.ts'), 'utf8');
    for (const name of ['ExpressionTracker', 'useExpression', 'ExpressionAvatar', 'occlude', 'preprocessFrame', 'arkitWeights', 'vrmWeights', 'connectOscBridge']) {
      expect(dts).toContain(name);
    }
    expect(dts).toContain("export * from './research/index.js'");
    expect(readFileSync(resolve(REPO, 'dist/lib/types/research/recorder.d.ts'), 'utf8')).toContain('export declare class ResearchRecorder');
    expect(existsSync(resolve(REPO, 'dist/lib/types/embed/use-expression.d.ts'))).toBe(true);
  });
});

describe('examples/embed in Chromium', () => {
  it('tracks the camera with the built library and renders the avatar', async () => {
    server = await preview({ configFile: resolve(REPO, 'examples/embed/vite.config.ts'), preview: { host: '127.0.0.1', port: 0, strictPort: false }, logLevel: 'warn' });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('preview server has no TCP address');
    const base = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    await context.grantPermissions(['camera'], { origin: base });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => {
      const m = /^ready · (\d+) frames/.exec(document.getElementById('status')?.textContent ?? '');
      return m !== null && Number(m[1]) >= 5;
    }, null, { timeout: 240_000 });
    const status = await page.textContent('#status');
    expect(status).toMatch(/^ready · \d+ frames · (neutral|happiness|surprise|sadness|anger|disgust|fear|contempt)$/);
    expect(await page.locator('canvas').count()).toBe(1);
    expect(errors).toEqual([]);
    // everything came from the page's own server
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(requests.some((u) => u.endsWith('/models/halfface/model.json'))).toBe(true);
  });
});
