/**
 * Node side of the browser harness: a Vite dev server on 127.0.0.1 over the repository (so the
 * page imports src/ as the app would, workers and ?url assets included) and Debian's Chromium via
 * playwright-core, WebGL on SwiftShader. One launch per test file; close() ends both.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HARNESS_PATH = '/tools/browser/harness.html';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  // Frames must keep flowing in a hidden headless page.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
];

export interface Harness {
  server: ViteDevServer;
  baseUrl: string;
  browser: Browser;
  /** A fresh context + page on the harness, with the tracker API on window.halfface. */
  openPage(options?: { permissions?: string[] }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** extra Chromium flags (e.g. --use-fake-device-for-media-stream) */
  args?: string[];
  /**
   * Files served at exact paths under /__fixtures/ (a snapshot of a model, deliberately broken
   * models). The map stays live: entries added later are served too.
   */
  fixtures?: Map<string, Uint8Array | string>;
}

export const FIXTURE_PREFIX = '/__fixtures/';

function fixturePlugin(fixtures: Map<string, Uint8Array | string>): Plugin {
  return {
    name: 'halfface-fixtures',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        if (!path.startsWith(FIXTURE_PREFIX)) return next();
        const body = fixtures.get(path.slice(FIXTURE_PREFIX.length));
        if (body === undefined) { res.statusCode = 404; res.end('not found'); return; }
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(body);
      });
    },
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const extraArgs = options.args ?? [];
  const server = await createServer({
    plugins: [fixturePlugin(options.fixtures ?? new Map())],
    configFile: false,
    root: REPO_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    cacheDir: resolve(REPO_ROOT, 'node_modules/.vite-harness'),
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    // Listed up front so Vite never discovers a dependency mid-test and reloads the page.
    optimizeDeps: {
      entries: [HARNESS_PATH.slice(1), 'src/tracker/worker.ts', 'src/tracker/detector.ts', 'tools/browser/bench-page.ts'],
      include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm', '@vladmandic/face-api/dist/face-api.esm-nobundle.js'],
    },
    worker: { format: 'es' },
  });
  await server.listen();
  const address = server.httpServer!.address();
  if (!address || typeof address === 'string') throw new Error('vite dev server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
  } catch (e) {
    await server.close();
    throw e;
  }
  const contexts: BrowserContext[] = [];
  return {
    server, baseUrl, browser,
    async openPage(options = {}) {
      const context = await browser.newContext({ baseURL: baseUrl });
      contexts.push(context);
      if (options.permissions) await context.grantPermissions(options.permissions, { origin: baseUrl });
      // tsx (esbuild keepNames) wraps functions passed to page.evaluate in __name(); give the page one.
      await context.addInitScript('globalThis.__name = (f) => f;');
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('[page error]', e.message));
      await page.goto(HARNESS_PATH);
      await page.waitForFunction(() => window.halffaceReady === true, undefined, { timeout: 120_000 });
      return { context, page };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}
