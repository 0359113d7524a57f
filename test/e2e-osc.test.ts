/**
 * The app drives the OSC bridge: ?osc=URL connects to a real bridge (tools/osc, in process), the
 * tracked blendshapes reach a UDP socket as OSC face-tracking parameters, the page shows the
 * connection, and the toggle turns it off. A URL that is not ws:// is refused with a message.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOscBridge, type OscBridge } from '../tools/osc/bridge.js';
import { decodePacket } from '../tools/osc/osc.js';
import { launchChromium, newContext, startAppServer, watchForeignRequests, type AppServer } from './helpers/e2e-app.js';

describe('OSC output from the app', () => {
  let app: AppServer;
  let browser: Browser;
  let bridge: OscBridge;
  let udp: Socket;
  const addresses = new Set<string>();

  beforeAll(async () => {
    udp = createSocket('udp4');
    udp.on('message', (packet) => { for (const m of decodePacket(new Uint8Array(packet))) addresses.add(m.address); });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    bridge = await startOscBridge({ wsPort: 0, oscPort: udp.address().port });
    app = await startAppServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await bridge?.close();
    udp?.close();
  });

  it('?osc=URL sends the tracked blendshapes to the bridge, shows the connection, and toggles off', async () => {
    const context = await newContext(browser, app.baseUrl);
    const foreign = watchForeignRequests(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`/?input=demo&osc=${encodeURIComponent(bridge.url)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await page.waitForFunction(() => window.__halfface?.osc.state === 'open', undefined, { timeout: 60_000 });
    await page.waitForFunction(() => window.__halfface!.osc.sent >= 3, undefined, { timeout: 240_000 });
    const deadline = Date.now() + 10_000;
    while (addresses.size === 0 && Date.now() < deadline) await page.waitForTimeout(200);
    expect(bridge.stats().updates).toBeGreaterThanOrEqual(3);
    expect([...addresses].some((a) => a.startsWith('/avatar/parameters/FT/v2/'))).toBe(true);
    expect(await page.getByTestId('osc-status').textContent()).toMatch(new RegExp(`^OSC: sending to ${bridge.url.replace(/[.]/g, '\\.')}/? \\(\\d+ updates\\)$`));

    await page.getByTestId('osc-toggle').uncheck();
    await page.waitForFunction(() => window.__halfface!.osc.state === 'off');
    expect(await page.getByTestId('osc-status').textContent()).toBe('OSC: off');
    const clients = Date.now() + 5000;
    while (bridge.stats().clients > 0 && Date.now() < clients) await page.waitForTimeout(100);
    expect(bridge.stats().clients).toBe(0);
    await context.close();
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });

  it('a bridge URL that is not ws:// is refused with a message', async () => {
    const context = await newContext(browser, app.baseUrl);
    const page = await context.newPage();
    await page.goto('/?input=demo&osc=http://127.0.0.1:9010', { waitUntil: 'domcontentloaded', timeout: 120_000 });
    const message = page.getByTestId('osc-error');
    await message.waitFor({ timeout: 60_000 });
    expect(await message.textContent()).toBe('the OSC bridge URL must start with ws:// or wss://, got "http://127.0.0.1:9010"');
    expect((await page.evaluate(() => window.__halfface!)).osc.state).toBe('off');
    await context.close();
  });
});
