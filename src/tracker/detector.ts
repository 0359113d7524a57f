/**
 * Region of interest from face-api's tiny face detector (@vladmandic/face-api, the maintained
 * face-api.js fork). Its weights come from the npm package and are served with the app (Vite emits
 * them as assets), never fetched from a hub. Loaded lazily: apps with a fixed ROI never download it.
 */
import * as tf from '@tensorflow/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
import defaultManifestUrl from '@vladmandic/face-api/model/tiny_face_detector_model-weights_manifest.json?url';
import defaultWeightsUrl from '@vladmandic/face-api/model/tiny_face_detector_model.bin?url';
import type { PixelBox } from '../core/preprocess.js';
import { TrackerError } from './types.js';

import { DEFAULT_MIN_SCORE, DETECTOR_INPUT_SIZE } from './detector-config.js';

async function fetchOrThrow(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new TrackerError('detector-missing', `could not fetch face detector file ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new TrackerError('detector-missing', `face detector file ${url} answered HTTP ${response.status}`);
  return response;
}

/**
 * face-api only knows a window and Node: in a worker it has no environment and every call throws
 * "getEnv - environment is not defined". We only hand it tensors, so an OffscreenCanvas-backed
 * environment is all it needs; without this the tracker silently fell back to the main thread
 * whenever the face detector was on (every camera without a stored ROI).
 */
function ensureFaceApiEnvironment(): void {
  if (faceapi.env.isBrowser() || faceapi.env.isNodejs()) return;
  try {
    faceapi.env.getEnv();
    return;
  } catch { /* not set yet: set it below */ }
  if (typeof OffscreenCanvas === 'undefined') return;
  const unavailable = (what: string) => () => { throw new Error(`face-api in a worker has no ${what}`); };
  // The DOM types face-api declares do not exist in a worker; the OffscreenCanvas classes stand in.
  faceapi.env.setEnv({
    Canvas: OffscreenCanvas,
    CanvasRenderingContext2D: OffscreenCanvasRenderingContext2D,
    Image: class {},
    ImageData,
    Video: class {},
    createCanvasElement: () => new OffscreenCanvas(1, 1),
    createImageElement: unavailable('<img>'),
    createVideoElement: unavailable('<video>'),
    fetch: (url: string, init?: RequestInit) => fetch(url, init),
    readFile: unavailable('file system'),
  } as unknown as faceapi.Environment);
}

export class FaceBoxDetector {
  private constructor(private readonly net: faceapi.TinyFaceDetector, private readonly minScore: number) {}

  /**
   * modelUrl: a folder holding tiny_face_detector_model-weights_manifest.json and its .bin;
   * default: the copies bundled from node_modules/@vladmandic/face-api/model.
   */
  static async load(modelUrl?: string, minScore = DEFAULT_MIN_SCORE): Promise<FaceBoxDetector> {
    ensureFaceApiEnvironment();
    const base = modelUrl ? (modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`) : null;
    const manifestUrl = base ? new URL('tiny_face_detector_model-weights_manifest.json', base).href : new URL(defaultManifestUrl, self.location.href).href;
    const manifest = (await (await fetchOrThrow(manifestUrl)).json()) as tf.io.WeightsManifestConfig;
    const weightsUrl = base ? new URL(manifest[0].paths[0], base).href : new URL(defaultWeightsUrl, self.location.href).href;
    const bytes = await (await fetchOrThrow(weightsUrl)).arrayBuffer();
    const net = new faceapi.TinyFaceDetector();
    try {
      // face-api declares its own copy of the tfjs types; the tensors are the same runtime objects.
      net.loadFromWeightMap(tf.io.decodeWeights(bytes, manifest.flatMap((g) => g.weights)) as unknown as Parameters<typeof net.loadFromWeightMap>[0]);
    } catch (e) {
      throw new TrackerError('detector-missing', `face detector weights ${weightsUrl} are unusable: ${(e as Error).message}`);
    }
    return new FaceBoxDetector(net, minScore);
  }

  /** The most confident face in an RGBA image, in its pixels, or null. */
  async detect(image: ImageData): Promise<PixelBox | null> {
    const input = tf.browser.fromPixels(image);
    try {
      const faces = await this.net.locateFaces(input as unknown as faceapi.TNetInput, new faceapi.TinyFaceDetectorOptions({ inputSize: DETECTOR_INPUT_SIZE, scoreThreshold: this.minScore }));
      if (faces.length === 0) return null;
      const best = faces.reduce((a, b) => (b.score > a.score ? b : a));
      return { x: best.box.x, y: best.box.y, width: best.box.width, height: best.box.height };
    } finally {
      input.dispose();
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}
