/** The tracker's public types: plain data, shared by the main thread, the worker and apps. */
import type { ArkitBlendshape, VrmPreset } from '../core/blendshapes.js';
import type { Expression } from '../core/labels.js';
import type { MouthBlendshape, VrmViseme } from '../core/mouth-blendshapes.js';
import type { Box, Placement } from '../core/preprocess.js';
import type { BackendRequest } from './backend-choice.js';
import type { WasmPaths } from './wasm-paths.js';

export type { ArkitBlendshape, VrmPreset, VrmViseme, MouthBlendshape, Expression, Box, Placement };

/**
 * Where the face is in the frame.
 * fixed: a camera mounted on the headset; the box is set once (a calibration UI stores it).
 *   placement 'lower-half' (the default for fixed) says the box shows only mouth and jaw: it is
 *   put into the visible lower half of the 48x48 face, exactly where training sees that region.
 *   'face' says the box holds a whole face.
 * detector: a frontal camera; face-api's tiny face detector finds the face each frame, falling
 *   back to the last good box, then fallbackBox, when it finds none (e.g. the upper face is covered).
 * full: the whole frame is the face (already-cropped input, e.g. FER images).
 */
export type RoiOptions =
  | { mode: 'fixed'; box: Box; placement?: Placement }
  | { mode: 'detector'; detectorModelUrl?: string; fallbackBox?: Box; minScore?: number }
  | { mode: 'full' };

export interface SmoothingOptions {
  /** one-euro filter minimum cut-off, Hz */
  minCutoff?: number;
  /** one-euro filter speed coefficient */
  beta?: number;
  /** label hysteresis margin, probability points */
  hysteresis?: number;
  /** the measured mouth's one-euro filter (default DEFAULT_MOUTH_ONE_EURO: speech is faster than expressions) */
  mouth?: { minCutoff?: number; beta?: number };
}

/** full/fixed: from the options; detected: this frame; last-detected / fallback: the detector found no face. */
export type RoiSource = 'full' | 'fixed' | 'detected' | 'last-detected' | 'fallback';

export type TrackerState = 'ready' | 'context-lost' | 'disposed';

export interface TrackerOptions {
  /** URL of the tfjs layers model.json (weights next to it). */
  modelUrl: string;
  /** default { mode: 'full' } */
  roi?: RoiOptions;
  /** default on with DEFAULT_ONE_EURO; false = raw model output (still calibrated if calibrated) */
  smoothing?: SmoothingOptions | false;
  /** Run inference in a Web Worker when WebGL works there (default true); else main thread. */
  worker?: boolean;
  /**
   * default 'webgl'. 'auto': WebGL on a real GPU, wasm where the GPU is emulated on the CPU
   * (SwiftShader, llvmpipe) or absent (backend-choice.ts says why); the app's default.
   */
  backend?: BackendRequest;
  /** Where tfjs-backend-wasm's .wasm files are (a folder URL, or one URL per file); default: bundled with the app (wasm-paths.ts). */
  wasmPaths?: WasmPaths;
  /** Called whenever `state` changes (e.g. WebGL context lost, then recovered). */
  onStateChange?: (state: TrackerState) => void;
  /** Called as create() moves through its stages, for a progress display. */
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * Where create() is. Loading is mostly not bytes (the model is ~2 MB) but shader compilation, which
 * on a software GPU takes longest: stages say more than a byte count would.
 */
export type LoadStage = 'fetching-model' | 'starting-gpu' | 'building-model' | 'loading-detector' | 'compiling-shaders';
export const LOAD_STAGES: readonly LoadStage[] = ['fetching-model', 'starting-gpu', 'building-model', 'loading-detector', 'compiling-shaders'];
export interface LoadProgress {
  stage: LoadStage;
  /** 1-based position of the stage in LOAD_STAGES, and their count */
  step: number;
  steps: number;
}

export interface TrackResult {
  timestampMs: number;
  /** smoothed, calibrated */
  probabilities: Record<Expression, number>;
  /** straight from the model */
  raw: Record<Expression, number>;
  label: Expression;
  confidence: number;
  /**
   * 0..1, the shapes the mapping table drives (src/core/blendshapes.ts); with the mouth head, the
   * mouth and jaw are the measured weights, smoothed and calibrated (src/core/face-weights.ts)
   */
  blendshapes: Partial<Record<ArkitBlendshape, number>>;
  /** 0..1, from the classes */
  vrm: Record<VrmPreset, number>;
  /** straight from the mouth head (not smoothed, not calibrated); null when the model has none */
  mouth: Record<MouthBlendshape, number> | null;
  /** 0..1 VRM visemes from the smoothed mouth; null when the model has no mouth head */
  visemes: Record<VrmViseme, number> | null;
  /** the region used for this frame, normalised */
  roi: Box;
  /** where roi came from: detector fallbacks show up here */
  roiSource?: RoiSource;
  timings: { preprocessMs: number; inferenceMs: number };
}

export interface TrackerStats {
  backend: string;
  inWorker: boolean;
  numTensors: number;
  numBytes: number;
  /** frames handed to track() that were dropped because inference was busy */
  droppedFrames: number;
  trackedFrames: number;
  contextRecoveries: number;
}

export type TrackerErrorCode =
  | 'model-missing' | 'model-corrupt' | 'no-webgl' | 'bad-frame' | 'context-lost' | 'disposed'
  | 'camera-denied' | 'camera-absent' | 'calibration-failed' | 'detector-missing';

export class TrackerError extends Error {
  constructor(readonly code: TrackerErrorCode, message: string) {
    super(message);
    this.name = 'TrackerError';
  }
}
