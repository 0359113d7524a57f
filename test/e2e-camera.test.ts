/**
 * The app end to end with a camera showing real faces: Chromium's fake camera plays a clip of
 * FER2013Valid images (happy faces, then surprised ones), the app tracks it with the real model,
 * and the avatar's morph-target weights, read back from its meshes, follow the clip.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_DIR } from './helpers/data.js';
import { launchChromium, newContext, REPO_ROOT, startAppServer, type AppServer } from './helpers/e2e-app.js';
import { CLIP_FACE_BOX, pickImages, storeClipRoi, writeFaceClip } from './helpers/fake-camera.js';

const HOLD_S = 1.5;
const SAMPLE_FOR_MS = 45_000;

interface Sample { marker: number; t: number; morph: Record<string, number>; label: string | null; tracked: number }

describe('app with a fake camera showing real faces', () => {
  let app: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    const clip = writeFaceClip([pickImages(VALID_DIR, 'happiness', 3), pickImages(VALID_DIR, 'surprise', 3)], HOLD_S);
    app = await startAppServer();
    browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip.path}`]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('tracks the faces and the avatar follows the expression changes', async () => {
    const context = await newContext(browser, app.baseUrl, ['camera']);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The clip's face fills the centre square: calibrate that ROI for the fake camera the way the
    // app stores it (per device id), so tracking skips the face detector, too slow on SwiftShader.
    const deviceId = await storeClipRoi(page);
    expect(deviceId).not.toBe('');
    await page.goto('/');
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 240_000 });
    const first = await page.evaluate(() => window.__halfface!);
    expect(first.input?.kind).toBe('camera');
    expect(first.input?.deviceId).toBe(deviceId);
    expect(first.roi).toMatchObject({ mode: 'fixed', placement: 'face' });
    for (const k of ['x', 'y', 'width', 'height'] as const) expect((first.roi as { box: typeof CLIP_FACE_BOX }).box[k]).toBeCloseTo(CLIP_FACE_BOX[k], 6);
    expect(first.inputNotice).toBeNull();
    expect(first.avatar.rendered).toBe('default');

    // Sample what the camera shows (the clip's segment marker, read from the preview video) next to
    // the weights on the avatar's meshes.
    const samples: Sample[] = [];
    const start = Date.now();
    while (Date.now() - start < SAMPLE_FOR_MS) {
      samples.push(await page.evaluate(() => {
        const video = document.querySelector('video')!;
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(video, 0, 0);
        const marker = ctx.getImageData(4, 4, 1, 1).data[0];
        const s = window.__halfface!;
        return { marker, t: performance.now(), morph: s.morph, label: s.latest?.label ?? null, tracked: s.trackedFrames };
      }));
      await page.waitForTimeout(250);
    }
    const last = await page.evaluate(() => window.__halfface!);
    mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: resolve(REPO_ROOT, 'test-results/e2e-camera.png') });

    // ROI calibration UI: drag a new box on the preview, save it for this camera.
    await page.getByRole('button', { name: 'ROI…' }).click();
    const preview = page.getByTestId('roi-preview');
    const rect = (await preview.boundingBox())!;
    await page.mouse.move(rect.x + rect.width * 0.3, rect.y + rect.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(rect.x + rect.width * 0.5, rect.y + rect.height * 0.7, { steps: 4 });
    await page.mouse.move(rect.x + rect.width * 0.7, rect.y + rect.height * 0.9, { steps: 4 });
    await page.mouse.up();
    await page.getByRole('button', { name: 'Save for this camera' }).click();
    const stored = await page.evaluate((id) => JSON.parse(localStorage.getItem(`halfface.roi.${id}`) ?? 'null'), deviceId);
    expect(stored.placement).toBe('lower-half');
    expect(stored.box.x).toBeCloseTo(0.3, 1);
    expect(stored.box.y).toBeCloseTo(0.5, 1);
    expect(stored.box.width).toBeCloseTo(0.4, 1);
    expect(stored.box.height).toBeCloseTo(0.4, 1);
    expect((await page.evaluate(() => window.__halfface!.roi))).toEqual({ mode: 'fixed', box: stored.box, placement: 'lower-half' });
    await context.close();

    expect(errors).toEqual([]);
    expect(last.trackedFrames).toBeGreaterThan(first.trackedFrames + 10);
    const probs = Object.values(last.latest!.probabilities);
    expect(probs).toHaveLength(8);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);

    // A sample counts for a segment once the camera has shown that segment for a while: the
    // avatar lags the camera by inference time plus smoothing.
    const SETTLE_MS = 1800;
    const segmentOf = (m: number) => (m > 200 ? 0 : m < 50 ? 1 : -1);
    const settled: { segment: number; sample: Sample }[] = [];
    let since = 0, current = -2;
    for (const sample of samples) {
      const segment = segmentOf(sample.marker);
      if (segment !== current) { current = segment; since = sample.t; }
      if (segment >= 0 && sample.t - since >= SETTLE_MS) settled.push({ segment, sample });
    }
    const happy = settled.filter((s) => s.segment === 0).map((s) => s.sample);
    const surprised = settled.filter((s) => s.segment === 1).map((s) => s.sample);
    expect(happy.length).toBeGreaterThanOrEqual(5);
    expect(surprised.length).toBeGreaterThanOrEqual(5);
    const mean = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((a, s) => a + f(s), 0) / xs.length;
    const smile = (s: Sample) => ((s.morph.mouthSmileLeft ?? 0) + (s.morph.mouthSmileRight ?? 0)) / 2;
    const jaw = (s: Sample) => s.morph.jawOpen ?? 0;
    const brows = (s: Sample) => s.morph.browInnerUp ?? 0;
    console.log(`[e2e-camera] ${last.trackedFrames} frames tracked; settled samples happy ${happy.length}, surprised ${surprised.length}; ` +
      `smile ${mean(happy, smile).toFixed(3)} vs ${mean(surprised, smile).toFixed(3)}, jawOpen ${mean(happy, jaw).toFixed(3)} vs ${mean(surprised, jaw).toFixed(3)}, ` +
      `browInnerUp ${mean(happy, brows).toFixed(3)} vs ${mean(surprised, brows).toFixed(3)}; labels ${JSON.stringify(countLabels(samples))}`);
    // The shipped model tells these two expressions apart clearly: the margins below leave room for
    // another model, not for a broken one.
    const shapes = Object.keys(last.morph).filter((k) => !k.startsWith('eyeBlink'));
    const change = shapes.reduce((sum, k) => sum + Math.abs(mean(happy, (s) => s.morph[k] ?? 0) - mean(surprised, (s) => s.morph[k] ?? 0)), 0);
    console.log(`[e2e-camera] summed change of ${shapes.length} morph weights between the segments: ${change.toFixed(3)}`);
    // The avatar must follow the camera in real time: on a machine busy with something else (a
    // training run) tracking drops below a frame a second, the avatar lags whole segments and these
    // fail. Say so in the failure rather than leave a bare number.
    const rate = (last.trackedFrames - first.trackedFrames) / (SAMPLE_FOR_MS / 1000);
    const why = `the avatar did not follow the clip; tracking ran at ${rate.toFixed(2)} frames/s (is another process using the CPU?)`;
    expect(change, why).toBeGreaterThan(0.5);
    // The smile is measured by the mouth head, on the landmark teacher's scale: its targets average
    // 0.47 on happy FER2013Valid faces and 0.15 on surprised ones (0.26 vs 0.06 on this clip's faces
    // through the app), less far apart than the expression-derived smile of a model without the head.
    expect(mean(happy, smile), why).toBeGreaterThan(mean(surprised, smile) + 0.1);
    // Brows come from the expression (surprise raises them). The jaw is not asserted: with the mouth
    // head it is measured, and some of these surprised faces have a nearly closed mouth (the landmark
    // teacher's jawOpen: 0.42, 0.02, 0.84); test/e2e-mouth.test.ts checks it against a drawn mouth.
    expect(mean(surprised, brows), why).toBeGreaterThan(mean(happy, brows) + 0.2);
  });
});

function countLabels(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[`${s.marker > 200 ? 'A' : 'B'}:${s.label}`] = (out[`${s.marker > 200 ? 'A' : 'B'}:${s.label}`] ?? 0) + 1;
  return out;
}
