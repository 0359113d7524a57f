/**
 * Page side of `npm run bench:browser`: times our tracker and face-api's expression net (the peer)
 * on the same frames in the same page, and measures how often the tiny face detector still finds a
 * face when the upper half is blacked out. Loaded lazily by the harness page.
 */
import * as tf from '@tensorflow/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
import peerManifestUrl from '@vladmandic/face-api/model/face_expression_model-weights_manifest.json?url';
import peerWeightsUrl from '@vladmandic/face-api/model/face_expression_model.bin?url';
import { FACE_PIXELS, FACE_SIZE } from '../../src/core/face-geometry.js';
import { ExpressionTracker } from '../../src/tracker/index.js';

export interface Timings { preprocessMs: number[]; inferenceMs: number[]; totalMs: number[] }

/** A 48x48 grey face shown at `size` px (nearest neighbour) on a canvas: a camera-sized face. */
export function faceCanvas(face: ArrayLike<number>, size: number, hideUpper = false): HTMLCanvasElement {
  const small = new OffscreenCanvas(FACE_SIZE, FACE_SIZE);
  const ctx = small.getContext('2d')!;
  const image = ctx.createImageData(FACE_SIZE, FACE_SIZE);
  for (let p = 0; p < FACE_PIXELS; p++) {
    const v = hideUpper && p < FACE_PIXELS / 2 ? 0 : face[p];
    image.data[4 * p] = v; image.data[4 * p + 1] = v; image.data[4 * p + 2] = v; image.data[4 * p + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  const canvas = document.createElement('canvas');
  canvas.width = size; canvas.height = size;
  const big = canvas.getContext('2d')!;
  big.imageSmoothingEnabled = false;
  big.drawImage(small, 0, 0, size, size);
  return canvas;
}

export async function benchStudent(modelUrl: string, frames: HTMLCanvasElement[], iterations: number, warmUp: number, worker: boolean): Promise<Timings & { inWorker: boolean; backend: string }> {
  const tracker = await ExpressionTracker.create({ modelUrl, roi: { mode: 'full' }, worker });
  const out: Timings = { preprocessMs: [], inferenceMs: [], totalMs: [] };
  try {
    for (let i = 0; i < warmUp + iterations; i++) {
      const start = performance.now();
      const result = await tracker.track(frames[i % frames.length], i * 33);
      const total = performance.now() - start;
      if (!result) throw new Error('frame dropped while nothing else ran');
      if (i < warmUp) continue;
      out.preprocessMs.push(result.timings.preprocessMs);
      out.inferenceMs.push(result.timings.inferenceMs);
      out.totalMs.push(total);
    }
    const stats = await tracker.stats();
    return { ...out, inWorker: stats.inWorker, backend: stats.backend };
  } finally {
    tracker.dispose();
  }
}

/**
 * face-api's FaceExpressionNet from its npm package's weights. Preprocessing = toNetInput (its input
 * wrapping); its resize to 112x112 and normalisation run inside forwardInput and count as inference,
 * as they do in face-api itself.
 */
export async function benchPeer(frames: HTMLCanvasElement[], iterations: number, warmUp: number): Promise<Timings & { backend: string }> {
  await tf.setBackend('webgl');
  await tf.ready();
  const manifest = (await (await fetch(peerManifestUrl)).json()) as tf.io.WeightsManifestConfig;
  const bytes = await (await fetch(peerWeightsUrl)).arrayBuffer();
  const net = new faceapi.FaceExpressionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(bytes, manifest.flatMap((g) => g.weights)) as unknown as Parameters<typeof net.loadFromWeightMap>[0]);
  const out: Timings = { preprocessMs: [], inferenceMs: [], totalMs: [] };
  try {
    for (let i = 0; i < warmUp + iterations; i++) {
      const t0 = performance.now();
      const input = await faceapi.toNetInput(frames[i % frames.length]);
      const t1 = performance.now();
      const logits = net.forwardInput(input);
      const probs = tf.softmax(logits as unknown as tf.Tensor2D);
      await probs.data();
      probs.dispose();
      (logits as unknown as tf.Tensor).dispose();
      const t2 = performance.now();
      if (i < warmUp) continue;
      out.preprocessMs.push(t1 - t0);
      out.inferenceMs.push(t2 - t1);
      out.totalMs.push(t2 - t0);
    }
  } finally {
    net.dispose();
  }
  return { ...out, backend: tf.getBackend() };
}

/**
 * How often the tracker's detector ROI finds the face, on faces in a 640x360 camera-like frame,
 * whole and with the upper half black (a headset). Uses the tracker itself: roiSource 'detected'.
 */
export async function detectorHitRate(modelUrl: string, faces: number[][], minScore: number): Promise<{ n: number; full: number; upperHidden: number }> {
  const counts = { n: faces.length, full: 0, upperHidden: 0 };
  const frame = document.createElement('canvas');
  frame.width = 640; frame.height = 360;
  const ctx = frame.getContext('2d')!;
  for (const hideUpper of [false, true]) {
    // A fresh tracker per condition, so 'last-detected' cannot carry over between them.
    const tracker = await ExpressionTracker.create({ modelUrl, roi: { mode: 'detector', minScore, fallbackBox: { x: 0, y: 0, width: 1, height: 1 } } });
    try {
      for (let i = 0; i < faces.length; i++) {
        ctx.fillStyle = '#777'; ctx.fillRect(0, 0, 640, 360);
        ctx.drawImage(faceCanvas(faces[i], 192, hideUpper), 224, 84);
        const result = await tracker.track(frame, i * 33);
        if (result?.roiSource === 'detected') counts[hideUpper ? 'upperHidden' : 'full']++;
      }
    } finally {
      tracker.dispose();
    }
  }
  return counts;
}

export function webglRenderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'no WebGL2';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}
