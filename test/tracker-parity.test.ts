/**
 * The browser tracker against the Node pipeline, in headless Debian Chromium with WebGL on
 * SwiftShader: same class and probabilities within 1e-3 on real FER+ Valid images; no tensor
 * leaks over 2,000 frames; frames dropped, not queued, while busy.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { argmax, NUM_CLASSES } from '../src/core/labels.js';
import { predictSplit } from '../tools/data/batches.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { FIXTURE_PREFIX, REPO_ROOT, startHarness, type Harness } from '../tools/browser/harness.js';
import { DATA_DIR } from './helpers/data.js';

const PARITY_IMAGES = 240;
const LEAK_FRAMES = 2000;
const MODEL_DIR = resolve(REPO_ROOT, 'models/student-baseline');
const MODEL_URL = `${FIXTURE_PREFIX}student/model.json`;

let harness: Harness;
let page: Page;
let split: LabelledSplit;
let modelJson: string;
let weights: Buffer;

/** The first n images of a split as a split of their own. */
function head(s: LabelledSplit, n: number): LabelledSplit {
  return { ...s, names: s.names.slice(0, n), pixels: s.pixels.subarray(0, n * FACE_PIXELS), targets: s.targets.subarray(0, n * NUM_CLASSES), labels: s.labels.subarray(0, n) };
}

/** Node reference: the same bytes of the model, on the cpu backend, through tools/data/batches.ts. */
async function nodeProbabilities(s: LabelledSplit): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const json = JSON.parse(modelJson);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
  }));
  try {
    return await predictSplit(model, s, 'lower', 64);
  } finally {
    model.dispose();
  }
}

/** In the page: each 48x48 grey face put on a canvas and tracked as a camera frame would be. */
async function browserProbabilities(faces: number[], options: { worker: boolean }): Promise<{ raw: number[][]; backend: string; inWorker: boolean }> {
  return page.evaluate(async ({ faces, modelUrl, worker }) => {
    const { ExpressionTracker } = window.halfface;
    const tracker = await ExpressionTracker.create({ modelUrl, roi: { mode: 'full' }, smoothing: false, worker });
    try {
      const canvas = new OffscreenCanvas(48, 48);
      const ctx = canvas.getContext('2d')!;
      const raw: number[][] = [];
      for (let i = 0; i < faces.length / 2304; i++) {
        const image = ctx.createImageData(48, 48);
        for (let p = 0; p < 2304; p++) {
          const v = faces[i * 2304 + p];
          image.data[4 * p] = v; image.data[4 * p + 1] = v; image.data[4 * p + 2] = v; image.data[4 * p + 3] = 255;
        }
        ctx.putImageData(image, 0, 0);
        const result = await tracker.track(canvas, i * 33);
        if (!result) throw new Error(`frame ${i} dropped though nothing else was running`);
        raw.push(Object.values(result.raw));
      }
      const stats = await tracker.stats();
      return { raw, backend: stats.backend, inWorker: stats.inWorker };
    } finally {
      tracker.dispose();
    }
  }, { faces, modelUrl: MODEL_URL, worker: options.worker });
}

function compare(node: Float32Array, raw: number[][]) {
  let maxDiff = 0;
  const mismatched: number[] = [];
  raw.forEach((probs, i) => {
    const ref = node.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
    probs.forEach((p, k) => { maxDiff = Math.max(maxDiff, Math.abs(p - ref[k])); });
    if (argmax(probs) !== argmax(ref)) mismatched.push(i);
  });
  return { maxDiff, mismatched };
}

beforeAll(async () => {
  // A snapshot of the model: the background retraining may replace the files during the test.
  modelJson = readFileSync(resolve(MODEL_DIR, 'model.json'), 'utf8');
  weights = readFileSync(resolve(MODEL_DIR, 'weights.bin'));
  split = head(loadSplit(DATA_DIR, 'FER2013Valid', 'majority'), PARITY_IMAGES);
  harness = await startHarness({ fixtures: new Map<string, Uint8Array | string>([['student/model.json', modelJson], ['student/weights.bin', weights]]) });
  ({ page } = await harness.openPage());
});

afterAll(async () => {
  await harness?.close();
});

describe('parity with the Node pipeline on real FER+ Valid images', () => {
  it(`worker + WebGL: same class on all ${PARITY_IMAGES} images, probabilities within 1e-3`, async () => {
    const node = await nodeProbabilities(split);
    const browser = await browserProbabilities(Array.from(split.pixels), { worker: true });
    expect(browser.backend).toBe('webgl');
    expect(browser.inWorker).toBe(true);
    expect(browser.raw).toHaveLength(PARITY_IMAGES);
    const { maxDiff, mismatched } = compare(node, browser.raw);
    console.log(`parity (worker, webgl): ${PARITY_IMAGES} images, max |Δp| = ${maxDiff.toExponential(2)}, class mismatches ${mismatched.length}`);
    expect(mismatched).toEqual([]);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
  });

  it('main-thread fallback engine: the same on the first 40 images', async () => {
    const n = 40;
    const node = await nodeProbabilities(head(split, n));
    const browser = await browserProbabilities(Array.from(split.pixels.subarray(0, n * FACE_PIXELS)), { worker: false });
    expect(browser.backend).toBe('webgl');
    expect(browser.inWorker).toBe(false);
    const { maxDiff, mismatched } = compare(node, browser.raw);
    console.log(`parity (main thread, webgl): ${n} images, max |Δp| = ${maxDiff.toExponential(2)}`);
    expect(mismatched).toEqual([]);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
  });
});

describe('runtime behaviour', () => {
  it('drops frames while busy instead of queueing them', async () => {
    const outcome = await page.evaluate(async (modelUrl) => {
      const { ExpressionTracker } = window.halfface;
      const tracker = await ExpressionTracker.create({ modelUrl });
      const canvas = new OffscreenCanvas(64, 64);
      const ctx = canvas.getContext('2d')!;
      const gradient = ctx.createLinearGradient(0, 0, 64, 64);
      gradient.addColorStop(0, '#202020'); gradient.addColorStop(1, '#e0e0e0');
      ctx.fillStyle = gradient; ctx.fillRect(0, 0, 64, 64);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => tracker.track(canvas, i * 10)));
      const stats = await tracker.stats();
      tracker.dispose();
      return { delivered: results.filter((r) => r !== null).length, dropped: stats.droppedFrames, first: results[0] !== null };
    }, MODEL_URL);
    expect(outcome).toEqual({ delivered: 1, dropped: 9, first: true });
  });

  it(`no tensor leaks: numTensors after warm-up equals numTensors after ${LEAK_FRAMES} tracked frames`, async () => {
    const faces = Array.from(split.pixels.subarray(0, 8 * FACE_PIXELS));
    const memory = await page.evaluate(async ({ faces, modelUrl, frames }) => {
      const { ExpressionTracker } = window.halfface;
      const tracker = await ExpressionTracker.create({ modelUrl });
      const afterWarmUp = (await tracker.stats()).numTensors;
      const canvases = Array.from({ length: faces.length / 2304 }, (_, i) => {
        const canvas = new OffscreenCanvas(48, 48);
        const ctx = canvas.getContext('2d')!;
        const image = ctx.createImageData(48, 48);
        for (let p = 0; p < 2304; p++) image.data.set([faces[i * 2304 + p], faces[i * 2304 + p], faces[i * 2304 + p], 255], 4 * p);
        ctx.putImageData(image, 0, 0);
        return canvas;
      });
      let tracked = 0;
      let nonFinite = 0;
      for (let i = 0; i < frames; i++) {
        const result = await tracker.track(canvases[i % canvases.length], i * 33);
        if (result) tracked++;
        if (result && !Object.values(result.probabilities).every(Number.isFinite)) nonFinite++;
      }
      const stats = await tracker.stats();
      tracker.dispose();
      return { afterWarmUp, afterFrames: stats.numTensors, tracked, trackedByStats: stats.trackedFrames, nonFinite };
    }, { faces, modelUrl: MODEL_URL, frames: LEAK_FRAMES });
    console.log(`leak check: ${memory.afterWarmUp} tensors after warm-up, ${memory.afterFrames} after ${memory.tracked} frames`);
    expect(memory.tracked).toBe(LEAK_FRAMES);
    expect(memory.trackedByStats).toBe(LEAK_FRAMES);
    expect(memory.nonFinite).toBe(0);
    expect(memory.afterFrames).toBe(memory.afterWarmUp);
  }, 1_200_000);
});
