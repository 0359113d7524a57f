/**
 * Neutral calibration refuses a face that is not neutral: the fake camera shows smiling FER2013Valid
 * faces, the user presses Calibrate neutral, and the app says why it kept no calibration. (Which
 * faces count as neutral enough: test/app-neutral-check.test.ts.)
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_DIR } from './helpers/data.js';
import { launchChromium, newContext, startAppServer, type AppServer } from './helpers/e2e-app.js';
import { pickImages, storeClipRoi, writeFaceClip } from './helpers/fake-camera.js';

describe('neutral calibration', () => {
  let app: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    const clip = writeFaceClip([pickImages(VALID_DIR, 'happiness', 4)], 2);
    app = await startAppServer();
    browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip.path}`]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('refuses to calibrate on a smiling face, with a message saying why', async () => {
    const context = await newContext(browser, app.baseUrl, ['camera']);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await storeClipRoi(page);
    await page.goto('/');
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 2, undefined, { timeout: 240_000 });
    expect((await page.evaluate(() => window.__halfface!)).roi.mode).toBe('fixed');

    await page.getByRole('button', { name: 'Calibrate neutral' }).click();
    await page.waitForFunction(() => window.__halfface!.calibration !== 'running' && window.__halfface!.calibration !== 'none', undefined, { timeout: 120_000 });
    const s = await page.evaluate(() => window.__halfface!);
    const shown = await page.locator('.hud .message').first().textContent();
    await context.close();
    expect(s.calibration).toBe('failed');
    expect(shown).toMatch(/^Calibration refused: the face read as happiness \(\d+% on average\), not neutral\. Relax your face and try again/);
    expect(errors).toEqual([]);
  });
});
