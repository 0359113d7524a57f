/**
 * The path most users take: a camera with no stored region of interest, so the face detector runs.
 * Inference (detector included) must run in the tracker's worker, and the page says where it runs,
 * how fast it goes and, while loading, which stage it is in. Chromium's built-in fake camera (a test
 * pattern, no face) is enough: the detector runs on every frame and falls back to the centre box.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newContext, sharedAppAndBrowser, REPO_ROOT, watchForeignRequests } from './helpers/e2e-app.js';

describe('default camera path (face detector, no stored ROI)', () => {
  const shared = sharedAppAndBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

  it('runs detection and inference in the worker and shows where, how fast, and load progress', async () => {
    const context = await newContext(shared.browser, shared.app.baseUrl, ['camera']);
    const foreign = watchForeignRequests(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/', { waitUntil: 'domcontentloaded', timeout: 120_000 });
    // On a software GPU (Chromium's SwiftShader here) the app's 'auto' backend runs the worker on wasm.
    const renderer = await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : null;
    });
    const expected = renderer && !/swiftshader|llvmpipe/i.test(renderer) ? 'webgl' : 'wasm';
    // The status text the page showed, polled while the tracker loads.
    const seenText = new Set<string>();
    const loadStart = Date.now();
    while (Date.now() - loadStart < 240_000) {
      const s = await page.evaluate(() => ({ status: window.__halfface?.trackerStatus, text: document.querySelector('[data-testid=tracker-status]')?.textContent ?? '' }));
      if (s.text) seenText.add(s.text);
      if (s.status && s.status !== 'loading') break;
      await page.waitForTimeout(150);
    }
    const ready = await page.evaluate(() => window.__halfface!);
    expect(ready.trackerStatus, ready.trackerMessage ?? '').toBe('ready');
    expect(ready.input?.kind).toBe('camera');
    expect(ready.roi.mode).toBe('detector');
    expect(ready.trackerInWorker, `worker fallback: ${ready.trackerFallback}`).toBe(true);
    expect(ready.trackerFallback).toBeNull();
    // Every stage, in order: the detector stage exists only on this path. (Read from the app's record,
    // not polled: on a fast machine the detector loads between two polls.)
    expect(ready.loadStages).toEqual(['fetching-model', 'starting-gpu', 'building-model', 'loading-detector', 'compiling-shaders']);
    expect([...seenText].some((t) => /loading the expression model: .+ \(\d\/5\)/.test(t))).toBe(true);

    await page.waitForFunction((n) => window.__halfface!.trackedFrames >= n + 2, ready.trackedFrames, { timeout: 180_000 });
    const tracking = await page.evaluate(() => window.__halfface!);
    expect(tracking.latest!.roi).toBeDefined();
    expect(tracking.trackRate).toBeGreaterThan(0);
    expect(tracking.inferenceMs).toBeGreaterThan(0);
    expect(tracking.trackerBackend?.backend, renderer ?? 'no WebGL').toBe(expected);
    expect(await page.getByTestId('inference-where').textContent()).toMatch(new RegExp(`^inference: in a worker \\(off the frame loop\\), ${expected} \\(`));
    await page.waitForFunction(() => /\d+ fps · tracking \d+\.\d\/s · inference \d+ ms/.test(document.querySelector('[data-testid=speed]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: resolve(REPO_ROOT, 'test-results/e2e-camera-default.png') });
    await context.close();
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
