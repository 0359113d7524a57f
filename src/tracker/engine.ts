/**
 * The inference engine: one tfjs backend, the student model, optionally the face detector. It runs
 * wherever it is constructed (a worker, or the main thread as fallback) and knows nothing of
 * smoothing or avatars: frame in, raw class probabilities (and the mouth head's weights) out.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { FACE_SIZE } from '../core/face-geometry.js';
import { NUM_CLASSES } from '../core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../core/mouth-blendshapes.js';
import { boxToPixels, FULL_FRAME, preprocessFrame, PreprocessError, squareFaceBox, type Box, type Placement } from '../core/preprocess.js';
import type { FaceBoxDetector } from './detector.js';
import { frameSize, PixelReader, type Frame } from './frame.js';
import { buildModel, fetchModelArtifacts, hasMouthOutput } from './model-loader.js';
import { TrackerError, type LoadStage, type RoiOptions, type RoiSource } from './types.js';
import type { TrackerBackend } from './backend-choice.js';
import type { WasmPaths } from './wasm-paths.js';

export interface EngineInit {
  /** absolute URL */
  modelUrl: string;
  roi: RoiOptions;
  backend: TrackerBackend;
  wasmPaths?: WasmPaths;
}


export interface EngineOutput {
  /** class probabilities, EXPRESSIONS order */
  raw: Float32Array;
  /** the mouth head's weights, MOUTH_BLENDSHAPES order; null when the model has no mouth head */
  mouth: Float32Array | null;
  roi: Box;
  roiSource: RoiSource;
  preprocessMs: number;
  inferenceMs: number;
}

export interface EngineStats { backend: string; numTensors: number; numBytes: number; contextRecoveries: number }

/** A read-back that never comes (GPU gone) must not hang the app. */
const READBACK_TIMEOUT_MS = 10_000;
const DETECTOR_MAX_SIDE = 320;

async function useBackend(init: EngineInit): Promise<string> {
  if (init.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (init.wasmPaths) wasm.setWasmPaths(init.wasmPaths);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(init.backend);
    await tf.ready();
  } catch {
    ok = false;
  }
  if (!ok || tf.getBackend() !== init.backend) {
    if (init.backend === 'webgl') throw new TrackerError('no-webgl', 'WebGL is not available here (tfjs could not create a WebGL context)');
    throw new TrackerError('no-webgl', `tfjs backend "${init.backend}" could not start${init.backend === 'wasm' ? ' (are wasmPaths right?)' : ''}`);
  }
  return init.backend;
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); }),
  ]);
}

export class InferenceEngine {
  private model: tf.LayersModel;
  private detector: FaceBoxDetector | null = null;
  private readonly reader = new PixelReader();
  private lastDetected: Box | null = null;
  private recoveries = 0;
  private disposed = false;

  private constructor(private readonly init: EngineInit, private readonly artifacts: tf.io.ModelArtifacts, model: tf.LayersModel, private backend: string) {
    this.model = model;
  }

  static async create(init: EngineInit, onStage: (stage: LoadStage) => void = () => {}): Promise<InferenceEngine> {
    // Fetch first: a missing model is reported as such even where WebGL is missing too.
    onStage('fetching-model');
    const artifacts = await fetchModelArtifacts(init.modelUrl);
    onStage('starting-gpu');
    const backend = await useBackend(init);
    onStage('building-model');
    const engine = new InferenceEngine(init, artifacts, await buildModel(artifacts, init.modelUrl), backend);
    try {
      if (init.roi.mode === 'detector') {
        onStage('loading-detector');
        const { FaceBoxDetector } = await import('./detector.js');
        engine.detector = await FaceBoxDetector.load(init.roi.detectorModelUrl, init.roi.minScore);
      }
      onStage('compiling-shaders');
      await engine.warmUp();
    } catch (e) {
      engine.dispose();
      throw e;
    }
    return engine;
  }

  /** First runs compile the WebGL shaders; do that before the first real frame, and check the output. */
  private async warmUp(): Promise<void> {
    const probe = new Float32Array(FACE_SIZE * FACE_SIZE).fill(0.5);
    const { raw, mouth } = await this.infer(probe);
    if (![...raw, ...(mouth ?? [])].every(Number.isFinite)) throw new TrackerError('model-corrupt', `model ${this.init.modelUrl} outputs non-finite values (corrupt weights?)`);
    if (this.detector) {
      await this.detector.detect(new ImageData(DETECTOR_MAX_SIDE, DETECTOR_MAX_SIDE));
    }
  }

  private webglContext(): WebGLRenderingContext | null {
    const backend = tf.findBackend('webgl') as MathBackendWebGL | null;
    return this.backend === 'webgl' && backend ? backend.gpgpu.gl : null;
  }

  private assertContext(): void {
    if (this.webglContext()?.isContextLost()) throw new TrackerError('context-lost', 'the WebGL context was lost');
  }

  /** Class probabilities, and the mouth weights when the model has the mouth head. */
  private async infer(input: Float32Array): Promise<{ raw: Float32Array; mouth: Float32Array | null }> {
    this.assertContext();
    const withMouth = hasMouthOutput(this.model);
    // Both heads in one tensor: one GPU read-back per frame, not two.
    const out = tf.tidy(() => {
      const y = this.model.predict(tf.tensor4d(input, [1, FACE_SIZE, FACE_SIZE, 1]));
      const heads = (Array.isArray(y) ? y : [y]).slice(0, withMouth ? 2 : 1);
      return heads.length === 1 ? heads[0] : tf.concat(heads, 1);
    });
    try {
      const data = await withTimeout(out.data() as Promise<Float32Array>, READBACK_TIMEOUT_MS, () => (this.webglContext()?.isContextLost()
        ? new TrackerError('context-lost', 'the WebGL context was lost during inference')
        : new TrackerError('context-lost', `no inference result after ${READBACK_TIMEOUT_MS} ms: the GPU is not answering`)));
      this.assertContext();
      return { raw: data.slice(0, NUM_CLASSES), mouth: withMouth ? data.slice(NUM_CLASSES, NUM_CLASSES + NUM_MOUTH_BLENDSHAPES) : null };
    } finally {
      out.dispose();
    }
  }

  private async regionOfInterest(frame: Frame, width: number, height: number): Promise<{ box: Box; source: RoiSource; placement: Placement }> {
    const roi = this.init.roi;
    if (roi.mode === 'full') return { box: FULL_FRAME, source: 'full', placement: 'face' };
    if (roi.mode === 'fixed') return { box: roi.box, source: 'fixed', placement: roi.placement ?? 'lower-half' };
    const { image, scale } = this.reader.scaled(frame, width, height, DETECTOR_MAX_SIDE);
    const found = await this.detector!.detect(image);
    if (found) {
      const unscaled = { x: found.x / scale, y: found.y / scale, width: found.width / scale, height: found.height / scale };
      this.lastDetected = squareFaceBox(unscaled, width, height);
      return { box: this.lastDetected, source: 'detected', placement: 'face' };
    }
    if (this.lastDetected) return { box: this.lastDetected, source: 'last-detected', placement: 'face' };
    if (roi.fallbackBox) return { box: roi.fallbackBox, source: 'fallback', placement: 'face' };
    throw new TrackerError('bad-frame', 'no face found in the frame, and no earlier detection or fallbackBox to fall back on');
  }

  async run(frame: Frame): Promise<EngineOutput> {
    if (this.disposed) throw new TrackerError('disposed', 'the tracker was disposed');
    this.assertContext();
    const t0 = performance.now();
    const { width, height } = frameSize(frame);
    const { box, source, placement } = await this.regionOfInterest(frame, width, height);
    const crop = boxToPixels(box, width, height);
    if (!crop) throw new TrackerError('bad-frame', `the region of interest ${JSON.stringify(box)} lies outside the ${width}x${height} frame`);
    const pixels = this.reader.crop(frame, crop);
    let input: Float32Array;
    try {
      input = preprocessFrame(pixels.data, pixels.width, pixels.height, { x: 0, y: 0, width: pixels.width, height: pixels.height }, placement);
    } catch (e) {
      if (e instanceof PreprocessError) throw new TrackerError('bad-frame', e.message);
      throw e;
    }
    const t1 = performance.now();
    const { raw, mouth } = await this.infer(input);
    if (!raw.every(Number.isFinite)) throw new TrackerError('model-corrupt', 'the model produced non-finite probabilities');
    if (mouth && !mouth.every(Number.isFinite)) throw new TrackerError('model-corrupt', 'the model produced non-finite mouth weights');
    const t2 = performance.now();
    return { raw, mouth, roi: box, roiSource: source, preprocessMs: t1 - t0, inferenceMs: t2 - t1 };
  }

  /**
   * After a lost context: a fresh WebGL backend (tfjs makes a new context when the cached one is
   * lost), the model rebuilt from the bytes kept in memory, warmed up again.
   */
  async recover(): Promise<void> {
    if (this.disposed) throw new TrackerError('disposed', 'the tracker was disposed');
    try { this.model.dispose(); } catch { /* its textures died with the context */ }
    this.detector?.dispose();
    this.detector = null;
    if (this.backend === 'webgl') {
      tf.removeBackend('webgl');
      tf.registerBackend('webgl', () => new MathBackendWebGL(), 2);
    }
    this.backend = await useBackend(this.init);
    this.model = await buildModel(this.artifacts, this.init.modelUrl);
    if (this.init.roi.mode === 'detector') {
      const { FaceBoxDetector } = await import('./detector.js');
      this.detector = await FaceBoxDetector.load(this.init.roi.detectorModelUrl, this.init.roi.minScore);
    }
    await this.warmUp();
    this.recoveries++;
  }

  /** Test aid: lose the WebGL context on purpose (WEBGL_lose_context), as a GPU reset would. */
  loseContext(): boolean {
    const extension = this.webglContext()?.getExtension('WEBGL_lose_context');
    if (!extension) return false;
    extension.loseContext();
    return true;
  }

  stats(): EngineStats {
    const memory = tf.memory();
    return { backend: this.backend, numTensors: memory.numTensors, numBytes: memory.numBytes, contextRecoveries: this.recoveries };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try { this.model.dispose(); } catch { /* already gone with a lost context */ }
    this.detector?.dispose();
  }
}
