/**
 * ExpressionTracker: any camera frame → lower-face crop → the distilled student → smoothed
 * expression probabilities, label, ARKit blendshapes and VRM presets; with a model that has the
 * mouth head, the measured mouth too (raw in `mouth`, smoothed into `blendshapes` and `visemes`).
 *
 *   const tracker = await ExpressionTracker.create({ modelUrl: '/models/halfface/model.json', roi: { mode: 'detector' } });
 *   const result = await tracker.track(video, performance.now()); // null: dropped, inference still busy
 *
 * Inference runs in a Web Worker (OffscreenCanvas + WebGL) when the browser can, else on the main
 * thread. Smoothing, calibration and the avatar mapping are cheap pure code and run here.
 */
import { toRecord } from '../core/blendshapes.js';
import { applyCalibration, applyMouthRest, fitMouthRest, fitNeutralCalibration, type NeutralCalibration } from '../core/calibration.js';
import { faceWeights, toMouthRecord } from '../core/face-weights.js';
import { argmax, EXPRESSIONS, NUM_CLASSES } from '../core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../core/mouth-blendshapes.js';
import { DEFAULT_MOUTH_ONE_EURO, DEFAULT_ONE_EURO, LabelHysteresis, ProbabilitySmoother, VectorSmoother } from '../core/smoothing.js';
import type { EngineInit, EngineOutput, EngineStats, InferenceEngine } from './engine.js';
import type { Frame } from './frame.js';
import type { Reply, RequestBody } from './protocol.js';
import { chooseBackend, webglRenderer, type BackendChoice } from './backend-choice.js';
import { DEFAULT_WASM_PATHS } from './wasm-paths.js';
import { LOAD_STAGES, TrackerError, type LoadStage, type TrackerOptions, type TrackerState, type TrackerStats, type TrackResult } from './types.js';

export * from './types.js';
export { openCamera } from './camera.js';
export type { EngineOutput, EngineStats } from './engine.js';
export type { Frame } from './frame.js';
export { chooseBackend, isSoftwareRenderer, type BackendChoice, type BackendRequest, type TrackerBackend } from './backend-choice.js';
export { DEFAULT_WASM_PATHS, type WasmPaths } from './wasm-paths.js';

/**
 * Where the engine lives: the same calls whether it is in a worker or on this thread. Also the seam
 * a test drives the tracker through (ExpressionTracker.fromEngine), with no model and no GPU.
 */
export interface EngineHandle {
  readonly inWorker: boolean;
  run(frame: Frame): Promise<EngineOutput>;
  recover(): Promise<void>;
  loseContext(): Promise<boolean>;
  stats(): Promise<EngineStats>;
  dispose(): void;
}

class LocalEngine implements EngineHandle {
  readonly inWorker = false;
  constructor(private readonly engine: InferenceEngine) {}
  run(frame: Frame) { return this.engine.run(frame); }
  recover() { return this.engine.recover(); }
  async loseContext() { return this.engine.loseContext(); }
  async stats() { return this.engine.stats(); }
  dispose() { this.engine.dispose(); }
}

class WorkerEngine implements EngineHandle {
  readonly inWorker = true;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker, private readonly onStage: (stage: LoadStage) => void) {
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      if ('progress' in reply) {
        this.onStage(reply.progress);
        return;
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(reply.code ? new TrackerError(reply.code, reply.message) : new Error(reply.message));
    };
    worker.onerror = (event) => this.failAll(new Error(`tracker worker failed: ${event.message}`));
  }

  static async start(init: EngineInit, onStage: (stage: LoadStage) => void): Promise<WorkerEngine> {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'halfface-tracker' });
    const handle = new WorkerEngine(worker, onStage);
    try {
      await handle.call({ type: 'init', init });
    } catch (e) {
      handle.dispose();
      throw e;
    }
    return handle;
  }

  private failAll(error: Error) {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  private call<T>(request: RequestBody, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  async run(frame: Frame): Promise<EngineOutput> {
    if (typeof ImageData !== 'undefined' && frame instanceof ImageData) return this.call({ type: 'run', frame });
    // A bitmap is a cheap GPU-side copy, transferred (not copied) to the worker, which closes it.
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(frame as ImageBitmapSource);
    } catch (e) {
      throw new TrackerError('bad-frame', `the frame cannot be read: ${(e as Error).message}`);
    }
    return this.call({ type: 'run', frame: bitmap }, [bitmap]);
  }

  recover() { return this.call<void>({ type: 'recover' }); }
  loseContext() { return this.call<boolean>({ type: 'lose-context' }); }
  stats() { return this.call<EngineStats>({ type: 'stats' }); }
  dispose() {
    this.failAll(new TrackerError('disposed', 'the tracker was disposed'));
    this.worker.terminate();
  }
}

interface CalibrationRun {
  samples: Float32Array[];
  /** the mouth head's weights of the same frames (empty without the head) */
  mouthSamples: Float32Array[];
  firstMs: number | null;
  durationMs: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Fewest frames a neutral calibration is fitted on. */
export const MIN_CALIBRATION_FRAMES = 5;

function engineInit(options: TrackerOptions): { init: EngineInit; choice: BackendChoice } {
  if (!options || typeof options.modelUrl !== 'string' || options.modelUrl === '') {
    throw new TrackerError('model-missing', 'TrackerOptions.modelUrl is required (the URL of the model.json)');
  }
  const base = typeof location !== 'undefined' ? location.href : undefined;
  const choice = chooseBackend(options.backend ?? 'webgl', options.backend === 'auto' ? webglRenderer() : null);
  return {
    init: {
      modelUrl: new URL(options.modelUrl, base).href,
      roi: options.roi ?? { mode: 'full' },
      backend: choice.backend,
      wasmPaths: options.wasmPaths ?? (choice.backend === 'wasm' ? DEFAULT_WASM_PATHS : undefined),
    },
    choice,
  };
}

export class ExpressionTracker {
  private currentState: TrackerState = 'ready';
  private busy = false;
  private recovering: Promise<void> | null = null;
  private dropped = 0;
  private tracked = 0;
  private calibration: NeutralCalibration | null = null;
  private mouthRest: Float64Array | null = null;
  private calibrating: CalibrationRun | null = null;
  private readonly smoother: ProbabilitySmoother | null;
  private readonly mouthSmoother: VectorSmoother | null;
  private readonly hysteresis: LabelHysteresis | null;

  private constructor(
    private readonly engine: EngineHandle,
    private readonly options: Pick<TrackerOptions, 'smoothing' | 'onStateChange'>,
    private readonly workerError: string | null,
    /** the tfjs backend inference runs on and why (null for a tracker around a supplied engine) */
    readonly backendChoice: BackendChoice | null = null,
  ) {
    const smoothing = options.smoothing;
    if (smoothing === false) {
      this.smoother = null;
      this.mouthSmoother = null;
      this.hysteresis = null;
    } else {
      this.smoother = new ProbabilitySmoother(NUM_CLASSES, {
        ...DEFAULT_ONE_EURO,
        ...(smoothing?.minCutoff !== undefined ? { minCutoff: smoothing.minCutoff } : {}),
        ...(smoothing?.beta !== undefined ? { beta: smoothing.beta } : {}),
      });
      this.mouthSmoother = new VectorSmoother(NUM_MOUTH_BLENDSHAPES, {
        ...DEFAULT_MOUTH_ONE_EURO,
        ...(smoothing?.mouth?.minCutoff !== undefined ? { minCutoff: smoothing.mouth.minCutoff } : {}),
        ...(smoothing?.mouth?.beta !== undefined ? { beta: smoothing.mouth.beta } : {}),
      }, 0, 1);
      this.hysteresis = new LabelHysteresis(smoothing?.hysteresis ?? 0.1);
    }
  }

  /** Loads the model (and detector), picks worker or main thread, warms up. */
  static async create(options: TrackerOptions): Promise<ExpressionTracker> {
    const { init, choice } = engineInit(options);
    const onStage = (stage: LoadStage) => options.onProgress?.({ stage, step: LOAD_STAGES.indexOf(stage) + 1, steps: LOAD_STAGES.length });
    let workerError: string | null = null;
    if (options.worker === false) workerError = 'turned off (worker: false)';
    else if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') workerError = 'this browser has no OffscreenCanvas in workers';
    else {
      try {
        return new ExpressionTracker(await WorkerEngine.start(init, onStage), options, null, choice);
      } catch (e) {
        // Only a backend the worker cannot start (typically WebGL in workers) is worth retrying here;
        // a missing or corrupt model fails the same on this thread.
        if (e instanceof TrackerError && e.code !== 'no-webgl') throw e;
        workerError = (e as Error).message;
      }
    }
    const { InferenceEngine } = await import('./engine.js');
    return new ExpressionTracker(new LocalEngine(await InferenceEngine.create(init, onStage)), options, workerError, choice);
  }

  /**
   * A tracker around an engine you supply: smoothing, calibration, dropping, recovery and disposal
   * as create() gives them, over any frame → probabilities function. Tests use it with a fake engine.
   */
  static fromEngine(engine: EngineHandle, options: Pick<TrackerOptions, 'smoothing' | 'onStateChange'> = {}): ExpressionTracker {
    return new ExpressionTracker(engine, options, null);
  }

  get state(): TrackerState {
    return this.currentState;
  }

  /** True when inference runs in a Web Worker. */
  get inWorker(): boolean {
    return this.engine.inWorker;
  }

  /** Why inference runs on the main thread (null when it runs in a worker): for a visible notice. */
  get workerFallbackReason(): string | null {
    return this.engine.inWorker ? null : this.workerError;
  }

  private setState(state: TrackerState) {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onStateChange?.(state);
  }

  /**
   * Tracks one frame. Resolves null when the frame is dropped because the previous one is still
   * being processed (or the tracker is recovering its GPU context): frames are never queued.
   * Rejects with a TrackerError for frames that cannot be read ('bad-frame': zero-sized, blank, no face)
   * and when the WebGL context is lost ('context-lost'; the tracker recovers by itself, see `state`).
   */
  async track(frame: Frame, timestampMs: number): Promise<TrackResult | null> {
    if (this.currentState === 'disposed') throw new TrackerError('disposed', 'the tracker was disposed');
    if (this.busy || this.recovering) {
      this.dropped++;
      return null;
    }
    if (this.currentState === 'context-lost') {
      throw new TrackerError('context-lost', 'the WebGL context was lost and could not be recovered');
    }
    if (!Number.isFinite(timestampMs)) throw new TrackerError('bad-frame', `timestampMs must be a finite number, got ${timestampMs}`);
    this.busy = true;
    let output: EngineOutput;
    try {
      output = await this.engine.run(frame);
    } catch (e) {
      if (e instanceof TrackerError && e.code === 'context-lost' && this.currentState === 'ready') this.startRecovery();
      throw e;
    } finally {
      this.busy = false;
    }
    if ((this.currentState as TrackerState) === 'disposed') throw new TrackerError('disposed', 'the tracker was disposed');
    this.tracked++;
    return this.postprocess(output, timestampMs);
  }

  private startRecovery() {
    this.setState('context-lost');
    this.recovering = this.engine.recover().then(
      () => { if (this.currentState !== 'disposed') this.setState('ready'); },
      () => { /* stays 'context-lost': track() says so */ },
    ).finally(() => { this.recovering = null; });
  }

  private postprocess(output: EngineOutput, timestampMs: number): TrackResult {
    const { raw, mouth } = output;
    this.collectCalibration(raw, mouth, timestampMs);
    let probs: ArrayLike<number> = this.calibration ? applyCalibration(raw, this.calibration) : raw;
    if (this.smoother) probs = this.smoother.smooth(probs, timestampMs);
    const labelIndex = this.hysteresis ? this.hysteresis.update(probs) : argmax(probs);
    const probabilities = toRecord(Array.from(probs));
    let measured: ArrayLike<number> | null = mouth && this.mouthRest ? applyMouthRest(mouth, this.mouthRest) : mouth;
    if (measured && this.mouthSmoother) measured = this.mouthSmoother.smooth(measured, timestampMs);
    const weights = faceWeights(probabilities, measured && toMouthRecord(measured));
    return {
      timestampMs,
      probabilities,
      raw: toRecord(Array.from(raw)),
      label: EXPRESSIONS[labelIndex],
      confidence: probs[labelIndex],
      blendshapes: weights.blendshapes,
      vrm: weights.vrm,
      mouth: mouth && toMouthRecord(mouth),
      visemes: weights.visemes,
      roi: output.roi,
      roiSource: output.roiSource,
      timings: { preprocessMs: output.preprocessMs, inferenceMs: output.inferenceMs },
    };
  }

  private collectCalibration(raw: Float32Array, mouth: Float32Array | null, timestampMs: number) {
    const run = this.calibrating;
    if (!run) return;
    run.samples.push(raw.slice());
    if (mouth) run.mouthSamples.push(mouth.slice());
    run.firstMs ??= timestampMs;
    if (timestampMs - run.firstMs >= run.durationMs && run.samples.length >= MIN_CALIBRATION_FRAMES) {
      clearTimeout(run.timer);
      this.calibrating = null;
      this.calibration = fitNeutralCalibration(run.samples);
      this.mouthRest = run.mouthSamples.length > 0 ? fitMouthRest(run.mouthSamples) : null;
      this.smoother?.reset();
      this.mouthSmoother?.reset();
      this.hysteresis?.reset();
      run.resolve();
    }
  }

  /**
   * Records the user's neutral face from the frames passed to track() over `durationMs` (frame
   * timestamps), then corrects every later output so that face reads as neutral. Keep calling
   * track() meanwhile. Rejects ('calibration-failed') when too few frames arrive in time.
   */
  calibrateNeutral(durationMs = 3000): Promise<void> {
    if (this.currentState === 'disposed') return Promise.reject(new TrackerError('disposed', 'the tracker was disposed'));
    if (!(durationMs >= 0)) return Promise.reject(new TrackerError('calibration-failed', `durationMs must be ≥ 0, got ${durationMs}`));
    this.cancelCalibration(new TrackerError('calibration-failed', 'a new calibration replaced this one'));
    return new Promise<void>((resolve, reject) => {
      const wallLimitMs = durationMs + 5000;
      const timer = setTimeout(() => {
        const n = this.calibrating?.samples.length ?? 0;
        this.calibrating = null;
        reject(new TrackerError('calibration-failed', `only ${n} frame(s) tracked in ${wallLimitMs} ms; calibration needs ${MIN_CALIBRATION_FRAMES} over ${durationMs} ms of frame time: keep calling track() while calibrating`));
      }, wallLimitMs);
      this.calibrating = { samples: [], mouthSamples: [], firstMs: null, durationMs, resolve, reject, timer };
    });
  }

  /** Forgets the neutral calibration. */
  clearCalibration(): void {
    this.calibration = null;
    this.mouthRest = null;
  }

  private cancelCalibration(error: Error) {
    const run = this.calibrating;
    if (!run) return;
    clearTimeout(run.timer);
    this.calibrating = null;
    run.reject(error);
  }

  /** Engine memory and counters (numTensors is what leak tests watch). */
  async stats(): Promise<TrackerStats> {
    if (this.currentState === 'disposed') throw new TrackerError('disposed', 'the tracker was disposed');
    const engine = await this.engine.stats();
    return {
      backend: engine.backend, inWorker: this.engine.inWorker, numTensors: engine.numTensors, numBytes: engine.numBytes,
      droppedFrames: this.dropped, trackedFrames: this.tracked, contextRecoveries: engine.contextRecoveries,
    };
  }

  /** Test and demo aid: loses the WebGL context on purpose, as a GPU reset or driver crash would. */
  async simulateContextLoss(): Promise<boolean> {
    return this.engine.loseContext();
  }

  dispose(): void {
    if (this.currentState === 'disposed') return;
    this.cancelCalibration(new TrackerError('disposed', 'the tracker was disposed'));
    this.setState('disposed');
    this.engine.dispose();
  }
}
