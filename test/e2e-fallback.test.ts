/**
 * What the app does when things are missing: camera permission denied, no camera at all, an avatar
 * URL that does not load, a dropped file that is not an avatar. Each gives a visible message and
 * the app keeps working (demo input, default avatar).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newContext, startAppServer, watchForeignRequests, type AppServer } from './helpers/e2e-app.js';

describe('fallbacks', () => {
  let app: AppServer;
  let browser: Browser;
  let browserWithCamera: Browser;

  beforeAll(async () => {
    app = await startAppServer();
    // No fake camera: headless Chromium then has no video devices at all.
    browser = await launchChromium();
    // A camera, but no auto-accepting permission UI: ungranted means denied.
    browserWithCamera = await launchChromium(['--use-fake-device-for-media-stream']);
  });
  afterAll(async () => {
    await browser?.close();
    await browserWithCamera?.close();
    await app?.close();
  });

  async function open(path: string, permissions: string[], using = browser): Promise<{ page: Page; close: () => Promise<void>; errors: string[] }> {
    const context = await newContext(using, app.baseUrl, permissions);
    const foreign = watchForeignRequests(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The app's own readiness is waited for below; 'load' can take long on a busy machine.
    await page.goto(path, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    const close = async () => {
      await context.close();
      expect(foreign, 'requests to hosts other than this machine').toEqual([]);
    };
    return { page, close, errors };
  }

  const demoPlaying = (page: Page) => page.waitForFunction(() => {
    const s = window.__halfface;
    const video = document.querySelector('video');
    return s?.input?.kind === 'demo' && !!video && video.readyState >= 2 && video.videoWidth > 0;
  }, undefined, { timeout: 60_000 });

  it('camera permission denied: the demo input runs, with a visible notice', async () => {
    const { page, close, errors } = await open('/', [], browserWithCamera);
    await demoPlaying(page);
    const notice = page.getByTestId('input-notice');
    await notice.waitFor();
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toMatch(/permission was denied.*demo face/i);
    expect((await page.evaluate(() => window.__halfface!)).inputNotice).toMatch(/denied/);
    await close();
    expect(errors).toEqual([]);
  });

  it('no camera: the demo input runs, with a visible notice', async () => {
    const { page, close, errors } = await open('/', ['camera']);
    await demoPlaying(page);
    const notice = page.getByTestId('input-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/no camera is available.*demo face/i);
    await close();
    expect(errors).toEqual([]);
  });

  it('an avatar URL that does not load: a clear message, the default avatar stays', async () => {
    const { page, close, errors } = await open('/?input=demo&avatar=/no-such-avatar.vrm', []);
    const message = page.getByTestId('avatar-error');
    await message.waitFor({ timeout: 60_000 });
    expect(await message.textContent()).toMatch(/"no-such-avatar\.vrm" was not found: the server answered HTTP 404.*Keeping the current avatar/);
    const s = await page.evaluate(() => window.__halfface!);
    expect(s.avatar.kind).toBe('default');
    expect(s.avatar.rendered).toBe('default');
    expect(s.avatar.error).toMatch(/no-such-avatar/);
    // The default head is still in the scene, with its ARKit morph targets.
    await page.waitForFunction(() => window.__halfface!.frames > 2 && 'jawOpen' in window.__halfface!.morph);
    await close();
    expect(errors).toEqual([]);
  });

  it('an avatar URL that answers with a web page (a single-page host): "not found", not "corrupt"', async () => {
    // index.html stands for what SPA hosts send for any unknown path, with status 200.
    const { page, close, errors } = await open('/?input=demo&avatar=/index.html', []);
    const message = page.getByTestId('avatar-error');
    await message.waitFor({ timeout: 60_000 });
    expect(await message.textContent()).toMatch(/"index\.html" was not found: the server answered with a web page \(HTML\)/);
    await close();
    expect(errors).toEqual([]);
  });

  it('a model URL that does not exist: "not found", and the default model tracks instead', async () => {
    const { page, close, errors } = await open('/?input=demo&model=/no-such-model.json', []);
    const notice = page.getByTestId('model-notice');
    await notice.waitFor({ timeout: 120_000 });
    expect(await notice.textContent()).toMatch(/the model \/no-such-model\.json was not found: the server answered HTTP 404.*Using the default model \(\/models\/halfface\/model\.json\)/);
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 240_000 });
    const s = await page.evaluate(() => window.__halfface!);
    expect(s.trackerMessage).toBeNull();
    expect(s.modelNotice).toMatch(/not found/);
    await close();
    expect(errors).toEqual([]);
  });

  it('by contrast, the avatar shipped to try (/avatars/halfface-head.glb) loads and is driven', async () => {
    const { page, close, errors } = await open('/?input=demo&avatar=/avatars/halfface-head.glb', []);
    await page.waitForFunction(() => window.__halfface?.avatar.rendered === 'gltf' && 'jawOpen' in window.__halfface.morph, undefined, { timeout: 60_000 });
    const s = await page.evaluate(() => window.__halfface!);
    expect(s.avatar).toMatchObject({ kind: 'gltf', name: 'halfface-head.glb', error: null });
    await close();
    expect(errors).toEqual([]);
  });

  it('a dropped file that is not a usable avatar: a clear message, the default avatar stays', async () => {
    const { page, close, errors } = await open('/?input=demo', []);
    await page.waitForFunction(() => (window.__halfface?.frames ?? 0) > 2);
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([0x67, 0x6c, 0x54, 0x46, 2, 0, 0, 0, 1, 2, 3])], 'broken.glb', { type: 'model/gltf-binary' }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    const message = page.getByTestId('avatar-error');
    await message.waitFor({ timeout: 60_000 });
    expect(await message.textContent()).toMatch(/"broken\.glb" could not be loaded/);
    const s = await page.evaluate(() => window.__halfface!);
    expect(s.avatar.kind).toBe('default');
    expect(s.avatar.rendered).toBe('default');
    await close();
    expect(errors).toEqual([]);
  });
});
