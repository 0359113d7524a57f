/**
 * End-to-end harness for the app itself: the project's vite.config.ts served by a Vite dev server
 * on 127.0.0.1 (no HMR, no file watching: other work in the tree must not reload the page), and
 * Debian's Chromium via playwright-core with WebGL on SwiftShader.
 */
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll } from 'vitest';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

export interface AppServer { server: ViteDevServer; baseUrl: string; close(): Promise<void> }

export async function startAppServer(): Promise<AppServer> {
  const server = await createServer({
    configFile: resolve(REPO_ROOT, 'vite.config.ts'),
    root: REPO_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    cacheDir: resolve(REPO_ROOT, 'node_modules/.vite-e2e'),
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer!.address();
  if (!address || typeof address === 'string') throw new Error('vite dev server has no TCP address');
  return { server, baseUrl: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

export async function launchChromium(extraArgs: string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], ...options });
}

/** A context whose pages tolerate tsx's __name() wrappers in page.evaluate callbacks. */
export async function newContext(browser: Browser, baseURL: string, permissions: string[] = []): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 720 } });
  if (permissions.length) await context.grantPermissions(permissions, { origin: baseURL });
  await context.addInitScript('globalThis.__name = (f) => f;');
  return context;
}

/**
 * Every request the context's pages and workers make to a host other than this machine: the app
 * must fetch nothing from third-party hosts (CDNs included), in any mode. Inline URLs (data:,
 * blob:) never leave the page.
 */
export function watchForeignRequests(context: BrowserContext): string[] {
  const foreign: string[] = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) foreign.push(request.url());
  });
  return foreign;
}

/**
 * One app server and one Chromium for a whole test file (started in beforeAll, closed in
 * afterAll); read `app` and `browser` inside the tests.
 */
export function sharedAppAndBrowser(chromiumArgs: string[] = []): { readonly app: AppServer; readonly browser: Browser } {
  const held: { app?: AppServer; browser?: Browser } = {};
  beforeAll(async () => {
    held.app = await startAppServer();
    held.browser = await launchChromium(chromiumArgs);
  });
  afterAll(async () => {
    await held.browser?.close();
    await held.app?.close();
  });
  return {
    get app() { if (!held.app) throw new Error('the app server starts in beforeAll'); return held.app; },
    get browser() { if (!held.browser) throw new Error('Chromium starts in beforeAll'); return held.browser; },
  };
}
