/**
 * `npm run start:https` (vite --mode lan): the app over HTTPS with a generated certificate, on all
 * interfaces so a headset on the LAN can open it. The config is resolved as the command resolves it;
 * the server itself is started on loopback only (tests never listen on the network).
 */
import { get } from 'node:https';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createServer, resolveConfig, type ViteDevServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/e2e-app.js';

function fetchInsecure(url: string): Promise<{ status: number; body: string; subject: string; authorized: boolean }> {
  return new Promise((done, fail) => {
    // The certificate is self-signed: nothing on this machine trusts it, as a headset would not until accepted.
    get(url, { rejectUnauthorized: false }, (res) => {
      const socket = res.socket as TLSSocket;
      const subject = JSON.stringify(socket.getPeerCertificate().subject ?? {});
      const authorized = socket.authorized;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => done({ status: res.statusCode ?? 0, body, subject, authorized }));
    }).on('error', fail);
  });
}

describe('start:https', () => {
  let server: ViteDevServer | null = null;
  afterAll(async () => { await server?.close(); });

  it('the lan mode listens on every interface with HTTPS', async () => {
    const config = await resolveConfig({ configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, mode: 'lan', logLevel: 'silent' }, 'serve');
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.plugins.some((p) => p.name.includes('basic-ssl'))).toBe(true);
    const plain = await resolveConfig({ configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'silent' }, 'serve');
    expect(plain.server.host).toBe('127.0.0.1');
  });

  it('serves the app and the model over TLS with a generated certificate', async () => {
    server = await createServer({
      configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, mode: 'lan', logLevel: 'warn', clearScreen: false,
      cacheDir: resolve(REPO_ROOT, 'node_modules/.vite-e2e'),
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    });
    await server.listen();
    const urls = server.resolvedUrls?.local ?? [];
    expect(urls.length).toBeGreaterThan(0);
    expect(urls[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetchInsecure(urls[0]);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.authorized).toBe(false);
    expect(page.subject).toContain('halfface-lan');
    const model = await fetchInsecure(new URL('/models/halfface/model.json', urls[0]).href);
    expect(model.status).toBe(200);
    expect(JSON.parse(model.body)).toHaveProperty('modelTopology');
  });
});
