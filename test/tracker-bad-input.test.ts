/**
 * The tracker under bad input and failure, in headless Debian Chromium (WebGL on SwiftShader, a fake
 * camera device): camera denied or absent, model missing or corrupt, a lost WebGL context, zero-sized
 * and black frames, no face for the detector, calibration without frames. Each gets a typed error
 * or a clear state, never a hang or NaN. Also: the detector ROI and neutral calibration on real faces.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCalibration, fitNeutralCalibration } from '../src/core/calibration.js';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { argmax, EXPRESSIONS } from '../src/core/labels.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { FIXTURE_PREFIX, REPO_ROOT, startHarness, type Harness } from '../tools/browser/harness.js';
import { DATA_DIR } from './helpers/data.js';

const MODEL_DIR = resolve(REPO_ROOT, 'models/student-baseline');
const fixtures = new Map<string, Uint8Array | string>();
const MODEL_URL = `${FIXTURE_PREFIX}student/model.json`;

let harness: Harness;
let page: Page;
let split: LabelledSplit;

/** Runs `body` in the page with helpers: a tracker factory and real-face canvases. */
type Outcome = { code?: string; message?: string; name?: string } | Record<string, unknown>;

async function errorOf(promise: (args: never) => Promise<unknown>, args: Record<string, unknown> = {}): Promise<Outcome> {
  return page.evaluate(async ({ source, args }) => {
    try {
      // Functions do not cross into the page: their source does, and is rebuilt there.
      await (new Function('args', `return (${source})(args)`))(args);
      return { code: 'no error' };
    } catch (e) {
      return { code: (e as { code?: string }).code, message: (e as Error).message, name: (e as Error).name };
    }
  }, { source: promise.toString(), args });
}

beforeAll(async () => {
  const json = readFileSync(resolve(MODEL_DIR, 'model.json'), 'utf8');
  const weights = readFileSync(resolve(MODEL_DIR, 'weights.bin'));
  fixtures.set('student/model.json', json);
  fixtures.set('student/weights.bin', weights);
  fixtures.set('not-json/model.json', '{"modelTopology": {"class_name": "Model", ');
  fixtures.set('truncated/model.json', json);
  fixtures.set('truncated/weights.bin', weights.subarray(0, weights.length - 1000));
  fixtures.set('no-weights/model.json', json);
  fixtures.set('nan-weights/model.json', json);
  fixtures.set('nan-weights/weights.bin', new Uint8Array(weights.length).fill(0xff)); // every float32 is NaN
  fixtures.set('not-a-model/model.json', '{"hello": "world"}');
  split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority');
  harness = await startHarness({ fixtures, args: ['--use-fake-device-for-media-stream'] });
  ({ page } = await harness.openPage());
  // Real faces on canvases for the page: faces[i] = 48x48 FER+ Valid image i.
  await page.evaluate((faces) => {
    (window as unknown as { faces: OffscreenCanvas[] }).faces = faces.map((face) => {
      const canvas = new OffscreenCanvas(48, 48);
      const ctx = canvas.getContext('2d')!;
      const image = ctx.createImageData(48, 48);
      face.forEach((v, p) => image.data.set([v, v, v, 255], 4 * p));
      ctx.putImageData(image, 0, 0);
      return canvas;
    });
  }, Array.from({ length: 40 }, (_, i) => Array.from(split.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS))));
});

afterAll(async () => {
  await harness?.close();
});

describe('camera', () => {
  it('denied: no permission granted → TrackerError camera-denied', async () => {
    const out = await errorOf(async () => window.halfface.openCamera());
    expect(out.code).toBe('camera-denied');
    expect(out.name).toBe('TrackerError');
  });

  it('absent: a camera that is not there → TrackerError camera-absent', async () => {
    const { context, page: granted } = await harness.openPage({ permissions: ['camera'] });
    try {
      const out = await granted.evaluate(async () => {
        try {
          await window.halfface.openCamera({ deviceId: { exact: 'no-such-camera' } });
          return { code: 'no error' };
        } catch (e) {
          return { code: (e as { code?: string }).code };
        }
      });
      expect(out.code).toBe('camera-absent');
    } finally {
      await context.close();
    }
  });

  it('granted: frames of a live (fake) camera stream are tracked from the <video>', async () => {
    const { context, page: granted } = await harness.openPage({ permissions: ['camera'] });
    try {
      const out = await granted.evaluate(async (modelUrl) => {
        const { openCamera, ExpressionTracker } = window.halfface;
        const stream = await openCamera();
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = stream;
        await video.play();
        const tracker = await ExpressionTracker.create({ modelUrl, roi: { mode: 'fixed', box: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 } } });
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await tracker.track(video, performance.now()));
        tracker.dispose();
        stream.getTracks().forEach((t) => t.stop());
        return results.map((r) => r && { sum: Object.values(r.probabilities).reduce((a, b) => a + b, 0), roi: r.roi, finite: Object.values(r.vrm).every(Number.isFinite) });
      }, MODEL_URL);
      for (const r of out) {
        expect(r).not.toBeNull();
        expect(r!.sum).toBeCloseTo(1, 4);
        expect(r!.finite).toBe(true);
        expect(r!.roi).toEqual({ x: 0.25, y: 0.5, width: 0.5, height: 0.25 });
      }
    } finally {
      await context.close();
    }
  });
});

describe('model URL missing or corrupt', () => {
  const cases: [string, string, RegExp][] = [
    ['missing/model.json', 'model-missing', /HTTP 404/],
    ['no-weights/model.json', 'model-missing', /weight shard .* HTTP 404/],
    ['not-json/model.json', 'model-corrupt', /not valid JSON/],
    ['not-a-model/model.json', 'model-corrupt', /not a tfjs layers model/],
    ['truncated/model.json', 'model-corrupt', /truncated/],
    ['nan-weights/model.json', 'model-corrupt', /non-finite/],
  ];
  for (const [path, code, message] of cases) {
    it(`${path} → ${code}`, async () => {
      const out = await errorOf(async (args: { url: string }) => window.halfface.ExpressionTracker.create({ modelUrl: args.url }), { url: `${FIXTURE_PREFIX}${path}` });
      expect(out.code).toBe(code);
      expect(out.message).toMatch(message);
    });
  }

  it('no modelUrl at all → model-missing', async () => {
    const out = await errorOf(async () => window.halfface.ExpressionTracker.create({} as never));
    expect(out.code).toBe('model-missing');
  });
});

describe('lost WebGL context', () => {
  for (const worker of [true, false]) {
    it(`${worker ? 'worker' : 'main thread'}: reports context-lost, recovers by itself, then gives the same output`, async () => {
      const out = await page.evaluate(async ({ modelUrl, worker }) => {
        const { ExpressionTracker } = window.halfface;
        const face = (window as unknown as { faces: OffscreenCanvas[] }).faces[3];
        const states: string[] = [];
        const tracker = await ExpressionTracker.create({ modelUrl, smoothing: false, worker, onStateChange: (s) => states.push(s) });
        const before = await tracker.track(face, 0);
        const tensorsBefore = (await tracker.stats()).numTensors;
        const lost = await tracker.simulateContextLoss();
        let error: string | undefined;
        try { await tracker.track(face, 33); } catch (e) { error = (e as { code?: string }).code; }
        const stateAfterLoss = tracker.state;
        const deadline = performance.now() + 60_000;
        while (tracker.state !== 'ready' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const after = await tracker.track(face, 66);
        const stats = await tracker.stats();
        tracker.dispose();
        return { lost, error, stateAfterLoss, states, before: before!.raw, after: after!.raw, tensorsBefore, tensorsAfter: stats.numTensors, recoveries: stats.contextRecoveries, backend: stats.backend };
      }, { modelUrl: MODEL_URL, worker });
      expect(out.lost).toBe(true);
      expect(out.error).toBe('context-lost');
      expect(out.stateAfterLoss).toBe('context-lost');
      expect(out.states).toEqual(['context-lost', 'ready', 'disposed']);
      expect(out.recoveries).toBe(1);
      expect(out.backend).toBe('webgl');
      expect(out.tensorsAfter).toBe(out.tensorsBefore);
      for (const [k, v] of Object.entries(out.after)) expect(v).toBeCloseTo(out.before[k as keyof typeof out.before], 6);
    });
  }
});

describe('bad frames', () => {
  it('zero-sized, black, flat, unplayed video and non-frames → bad-frame; the tracker keeps working', async () => {
    const out = await page.evaluate(async (modelUrl) => {
      const { ExpressionTracker } = window.halfface;
      const results: Record<string, string | undefined> = {};
      for (const worker of [true, false]) {
        const tracker = await ExpressionTracker.create({ modelUrl, worker });
        const frames: Record<string, unknown> = {
          'zero-sized canvas': new OffscreenCanvas(0, 0),
          'zero-sized element canvas': Object.assign(document.createElement('canvas'), { width: 0, height: 0 }),
          'black canvas': (() => { const c = new OffscreenCanvas(640, 480); c.getContext('2d')!.fillRect(0, 0, 640, 480); return c; })(),
          'black ImageData': new ImageData(64, 64),
          'flat grey': (() => { const c = new OffscreenCanvas(64, 64); const x = c.getContext('2d')!; x.fillStyle = '#808080'; x.fillRect(0, 0, 64, 64); return c; })(),
          'video without a frame': document.createElement('video'),
          'null': null,
        };
        for (const [name, frame] of Object.entries(frames)) {
          try {
            await tracker.track(frame as ImageData, 0);
            results[`${worker}:${name}`] = 'no error';
          } catch (e) {
            results[`${worker}:${name}`] = (e as { code?: string }).code;
          }
        }
        const good = await tracker.track((window as unknown as { faces: OffscreenCanvas[] }).faces[0], 100);
        results[`${worker}:good frame after`] = good && Object.values(good.probabilities).every(Number.isFinite) ? 'ok' : 'broken';
        results[`${worker}:state`] = tracker.state;
        tracker.dispose();
        try { await tracker.track((window as unknown as { faces: OffscreenCanvas[] }).faces[0], 200); } catch (e) { results[`${worker}:after dispose`] = (e as { code?: string }).code; }
      }
      return results;
    }, MODEL_URL);
    for (const [name, code] of Object.entries(out)) {
      if (name.endsWith('good frame after')) expect(code, name).toBe('ok');
      else if (name.endsWith('state')) expect(code, name).toBe('ready');
      else if (name.endsWith('after dispose')) expect(code, name).toBe('disposed');
      else expect(code, name).toBe('bad-frame');
    }
  });
});

describe('detector ROI (face-api tiny face detector, weights served from node_modules)', () => {
  it('finds a real face in a camera-sized frame and falls back to the last good box, then to fallbackBox', async () => {
    const out = await page.evaluate(async (modelUrl) => {
      const { ExpressionTracker } = window.halfface;
      const faces = (window as unknown as { faces: OffscreenCanvas[] }).faces;
      // A FER face 4x larger at (200, 60) of a 640x360 grey frame, like a webcam image.
      const frame = (face: OffscreenCanvas | null) => {
        const c = new OffscreenCanvas(640, 360);
        const x = c.getContext('2d')!;
        const g = x.createLinearGradient(0, 0, 640, 360);
        g.addColorStop(0, '#505050'); g.addColorStop(1, '#a0a0a0');
        x.fillStyle = g; x.fillRect(0, 0, 640, 360);
        if (face) { x.imageSmoothingEnabled = false; x.drawImage(face, 200, 60, 192, 192); }
        return c;
      };
      const fallbackBox = { x: 0.1, y: 0.1, width: 0.3, height: 0.5 };
      const tracker = await ExpressionTracker.create({ modelUrl, roi: { mode: 'detector' } });
      const sources: string[] = [];
      let detectedRoi: unknown = null;
      let i = 0;
      for (; i < faces.length && !detectedRoi; i++) {
        const r = await tracker.track(frame(faces[i]), i * 33);
        if (r?.roiSource === 'detected') detectedRoi = r.roi;
      }
      const empty = await tracker.track(frame(null), 9999);
      tracker.dispose();
      const fresh = await ExpressionTracker.create({ modelUrl, roi: { mode: 'detector', fallbackBox } });
      const fallback = await fresh.track(frame(null), 0);
      fresh.dispose();
      const bare = await ExpressionTracker.create({ modelUrl, roi: { mode: 'detector' } });
      let bareError: string | undefined;
      try { await bare.track(frame(null), 0); } catch (e) { bareError = (e as { code?: string }).code + ': ' + (e as Error).message; }
      bare.dispose();
      return { tried: i, detectedRoi, empty, fallback, fallbackBox, bareError, sources };
    }, MODEL_URL);
    console.log(`detector: first real face found after ${out.tried} image(s), box ${JSON.stringify(out.detectedRoi)}`);
    expect(out.detectedRoi).not.toBeNull();
    const box = out.detectedRoi as { x: number; y: number; width: number; height: number };
    // The face was drawn at x 200-392, y 60-252 of 640x360: the box must be on it.
    expect(box.x * 640 + (box.width * 640) / 2).toBeGreaterThan(200);
    expect(box.x * 640 + (box.width * 640) / 2).toBeLessThan(392);
    expect(box.y * 360 + (box.height * 360) / 2).toBeGreaterThan(60);
    expect(box.y * 360 + (box.height * 360) / 2).toBeLessThan(252);
    expect(out.empty!.roiSource).toBe('last-detected');
    expect(out.empty!.roi).toEqual(out.detectedRoi);
    expect(out.fallback!.roiSource).toBe('fallback');
    expect(out.fallback!.roi).toEqual(out.fallbackBox);
    expect(out.bareError).toMatch(/^bad-frame: no face found/);
  });
});

describe('neutral calibration', () => {
  it("a user's resting face reads as the neutral target after calibrating on it", async () => {
    const out = await page.evaluate(async (modelUrl) => {
      const { ExpressionTracker } = window.halfface;
      const faces = (window as unknown as { faces: OffscreenCanvas[] }).faces;
      const tracker = await ExpressionTracker.create({ modelUrl, smoothing: false });
      // The real face the model finds least neutral plays this user's resting face.
      let face = faces[0];
      let before = (await tracker.track(face, 0))!;
      for (const f of faces) {
        const r = (await tracker.track(f, 0))!;
        if (r.raw.neutral < before.raw.neutral) { face = f; before = r; }
      }
      const done = tracker.calibrateNeutral(300);
      for (let t = 0; t <= 400; t += 33) await tracker.track(face, 1000 + t);
      await done;
      const after = (await tracker.track(face, 2000))!;
      // Frames never arrive: calibration must give up, not hang.
      let noFrames: string | undefined;
      try { await tracker.calibrateNeutral(0); } catch (e) { noFrames = (e as { code?: string }).code; }
      tracker.dispose();
      return { before: before.raw, afterRaw: after.raw, after: after.probabilities, afterLabel: after.label, noFrames };
    }, MODEL_URL);
    const raw = EXPRESSIONS.map((e) => out.before[e]);
    const expected = applyCalibration(raw, fitNeutralCalibration([raw]));
    console.log(`calibration: resting face neutral p ${raw[0].toFixed(3)} → ${out.after.neutral.toFixed(3)} (label ${out.afterLabel})`);
    EXPRESSIONS.forEach((e, i) => expect(out.after[e]).toBeCloseTo(expected[i], 5));
    expect(out.afterLabel).toBe(EXPRESSIONS[argmax(expected)]);
    expect(out.after.neutral).toBeGreaterThan(out.before.neutral);
    expect(out.noFrames).toBe('calibration-failed');
  });
});
