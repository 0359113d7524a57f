/**
 * The app's imperative side: picks the input, makes the tracker for it, and routes each result to
 * the store, the recorder and the OSC bridge. The tracking itself is the library's
 * ExpressionSession, the loop useExpression() runs too: a timer chain, not the render loop, so a
 * slow inference never holds up a frame (in XR or on the desktop).
 */
import { clearRoi, loadRoi, saveRoi, type StoredRoi } from '../../capture/roi-store.js';
import { listCameras, openCameraSource, openDemoSource, openFileSource, type VideoSource } from '../../capture/sources.js';
import { ExpressionSession } from '../../embed/expression-session.js';
import { MIN_CALIBRATION_FRAMES, TrackerError, type BackendRequest, type RoiOptions, type TrackResult } from '../../tracker/index.js';
import { connectOscBridge, DEFAULT_OSC_BRIDGE_URL, type OscBridgeClient } from '../../bridge/osc-bridge-client.js';
import { probeMissing } from '../../avatar/fetch-asset.js';
import { checkNeutral } from './neutral-check.js';
import { RateMeter } from './rate.js';
import { initialStudyState, Study } from './study.js';
import type { ExpressionRecorder } from './recorder.js';
import { roiFor } from './roi.js';
import { createStore, initialAppState, type AppState, type Store } from './store.js';

export const DEFAULT_MODEL_URL = '/models/halfface/model.json';

export interface ControllerOptions {
  modelUrl?: string;
  /** 'demo' skips the camera; 'camera' (default) tries it and falls back to the demo */
  input?: 'camera' | 'demo';
  /** run inference in a worker (default true) */
  worker?: boolean;
  /** tfjs backend (default 'auto': WebGL on a real GPU, wasm on a software one; see tracker/backend-choice.ts) */
  backend?: BackendRequest;
  /** research session defaults and the collection server to upload to (none: nothing is uploaded) */
  participantId?: string;
  condition?: string;
  collect?: string | null;
}

export class AppController {
  readonly store: Store<AppState> = createStore(initialAppState);
  private source: VideoSource | null = null;
  private readonly session = new ExpressionSession({
    onResult: (result) => this.accept(result),
    // Unreadable frames (covered camera, no face, video not started) are normal moments; the rest is shown.
    onFrameError: (e) => this.store.setState({ trackerMessage: e.message }),
  });
  private trackerRoi = '';
  private trackerGeneration = 0;
  private running = false;
  private recorder: ExpressionRecorder | null = null;
  /** the model in use: the requested one, or the default after the requested one failed */
  private modelUrl: string;
  private readonly trackMeter = new RateMeter();
  private osc: OscBridgeClient | null = null;
  /** raw outputs of the frames tracked while a neutral calibration runs (checked before it is kept) */
  private calibrationSamples: TrackResult['raw'][] | null = null;

  /** the research session the record button drives (replaced with setRecorder) */
  readonly study: Study;

  constructor(private readonly options: ControllerOptions = {}) {
    this.modelUrl = options.modelUrl ?? DEFAULT_MODEL_URL;
    this.store.setState({ study: initialStudyState(options.collect ?? null, options.participantId, options.condition) });
    this.study = new Study(this.store);
    this.recorder = this.study;
  }

  get video(): HTMLVideoElement | null {
    return this.source?.video ?? null;
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.options.input === 'demo') await this.useDemo(null);
    else await this.useCamera();
  }

  /** Opens a camera (default one when deviceId is absent); falls back to the demo face with a notice. */
  async useCamera(deviceId?: string): Promise<void> {
    let source: VideoSource;
    try {
      source = await openCameraSource(deviceId);
    } catch (e) {
      const code = e instanceof TrackerError ? e.code : null;
      const notice = code === 'camera-denied'
        ? 'Camera permission was denied, so the built-in demo face is driving the avatar. Allow the camera and pick it above to use your own face.'
        : `No camera is available (${(e as Error).message}), so the built-in demo face is driving the avatar.`;
      await this.useDemo(notice);
      return;
    }
    await this.setSource(source, null);
    this.refreshCameras();
  }

  async useFile(file: File): Promise<void> {
    try {
      await this.setSource(await openFileSource(file), null);
    } catch (e) {
      this.store.setState({ inputNotice: `The video file could not be used: ${(e as Error).message}` });
    }
  }

  async useDemo(notice: string | null): Promise<void> {
    await this.setSource(await openDemoSource(), notice);
  }

  async refreshCameras(): Promise<void> {
    try {
      this.store.setState({ cameras: await listCameras() });
    } catch {
      this.store.setState({ cameras: [] });
    }
  }

  private async setSource(source: VideoSource, notice: string | null): Promise<void> {
    this.source?.stop();
    this.source = source;
    this.session.setSource(source.video);
    const stored = source.kind === 'camera' ? loadRoi(source.deviceId ?? '') : null;
    this.store.setState({
      input: { kind: source.kind, label: source.label, deviceId: source.deviceId },
      inputNotice: notice,
      latest: null,
    });
    await this.useRoi(roiFor(source.kind, stored));
  }

  /** Saves a calibrated ROI for the current camera (or forgets it with null) and applies it. */
  async calibrateRoi(roi: StoredRoi | null): Promise<void> {
    const input = this.store.getState().input;
    if (!input) return;
    if (input.kind === 'camera') {
      if (roi) saveRoi(input.deviceId ?? '', roi);
      else clearRoi(input.deviceId ?? '');
    }
    await this.useRoi(roi ? { mode: 'fixed', box: roi.box, placement: roi.placement } : roiFor(input.kind, null));
  }

  /** The ROI is fixed when a tracker is created, so a new ROI means a new tracker. */
  private async useRoi(roi: RoiOptions): Promise<void> {
    this.store.setState({ roi });
    const key = JSON.stringify(roi);
    if (this.session.tracker && key === this.trackerRoi) return;
    const generation = ++this.trackerGeneration;
    this.trackerRoi = key;
    this.store.setState({ trackerStatus: 'loading', trackerMessage: null, loadProgress: null, loadStages: [], calibration: 'none', calibrationMessage: null });
    this.trackMeter.clear();
    const current = () => generation === this.trackerGeneration && this.running;
    for (;;) {
      try {
        // The session disposes the tracker it replaces, and one that arrives after a newer request.
        const tracker = await this.session.setTracker({
          modelUrl: this.modelUrl,
          roi,
          worker: this.options.worker,
          backend: this.options.backend ?? 'auto',
          onProgress: (progress) => {
            if (current()) this.store.setState((s) => ({ loadProgress: progress, loadStages: [...s.loadStages, progress.stage] }));
          },
          onStateChange: (state) => {
            if (state === 'context-lost') this.store.setState({ trackerMessage: 'GPU context lost, recovering…' });
            if (state === 'ready') this.store.setState({ trackerMessage: null });
          },
        });
        if (!tracker || !current()) return;
        this.store.setState({
          trackerStatus: 'ready', trackerMessage: null, loadProgress: null,
          trackerInWorker: tracker.inWorker, trackerFallback: tracker.workerFallbackReason, trackerBackend: tracker.backendChoice,
        });
        return;
      } catch (e) {
        if (generation !== this.trackerGeneration) return;
        const failed = this.modelUrl;
        const message = await explainModelFailure(failed, e as Error);
        if (generation !== this.trackerGeneration) return;
        // A model the user asked for that does not load must not leave the app without a tracker.
        if (failed !== DEFAULT_MODEL_URL && e instanceof TrackerError && (e.code === 'model-missing' || e.code === 'model-corrupt')) {
          this.modelUrl = DEFAULT_MODEL_URL;
          this.store.setState({ modelNotice: `${message}. Using the default model (${DEFAULT_MODEL_URL}) instead.`, loadStages: [] });
          continue;
        }
        this.store.setState({ trackerStatus: 'error', loadProgress: null, trackerMessage: `The expression tracker could not start: ${message}` });
        return;
      }
    }
  }

  private accept(result: TrackResult): void {
    const now = performance.now();
    this.trackMeter.push(now, result.timings.inferenceMs);
    this.calibrationSamples?.push(result.raw);
    if (this.osc?.send(result.blendshapes)) this.store.setState((s) => ({ osc: { ...s.osc, sent: s.osc.sent + 1 } }));
    this.store.setState((s) => ({ latest: result, trackedFrames: s.trackedFrames + 1, trackRate: this.trackMeter.rate(now), inferenceMs: this.trackMeter.mean(now) }));
    if (this.store.getState().recording) this.recorder?.push(result);
  }

  setTrackingEnabled(enabled: boolean): void {
    this.session.paused = !enabled;
    this.store.setState({ trackingEnabled: enabled, ...(enabled ? {} : { latest: null }) });
  }

  /**
   * Records the neutral face for durationMs, stretched on a slow device so that enough frames
   * (the tracker needs MIN_CALIBRATION_FRAMES) fall inside it; refuses a face that is not neutral.
   */
  async calibrateNeutral(durationMs?: number): Promise<void> {
    if (durationMs === undefined) {
      const rate = this.store.getState().trackRate;
      const needMs = rate > 0 ? ((MIN_CALIBRATION_FRAMES + 1) / rate) * 1000 : 0;
      durationMs = Math.min(30_000, Math.max(3000, Math.ceil(needMs)));
    }
    const tracker = this.session.tracker;
    if (!tracker) {
      this.store.setState({ calibration: 'failed', calibrationMessage: 'the tracker is not ready yet' });
      return;
    }
    this.store.setState({ calibration: 'running', calibrationMessage: 'hold a neutral face…' });
    const samples: TrackResult['raw'][] = [];
    this.calibrationSamples = samples;
    try {
      await tracker.calibrateNeutral(durationMs);
      const verdict = checkNeutral(samples);
      if (!verdict.ok) {
        // Fitted on an expression, the calibration would make that expression read as neutral from now on.
        tracker.clearCalibration();
        this.store.setState({ calibration: 'failed', calibrationMessage: `Calibration refused: ${verdict.reason}. Relax your face and try again; no calibration is applied.` });
        return;
      }
      this.store.setState({ calibration: 'done', calibrationMessage: 'neutral face calibrated' });
    } catch (e) {
      this.store.setState({ calibration: 'failed', calibrationMessage: (e as Error).message });
    } finally {
      if (this.calibrationSamples === samples) this.calibrationSamples = null;
    }
  }

  /** Attaches the research recorder the record buttons drive (null detaches). */
  setRecorder(recorder: ExpressionRecorder | null): void {
    if (this.recorder && this.store.getState().recording) void this.recorder.stop();
    this.recorder = recorder;
    this.store.setState({ recording: false, recorderMessage: null });
  }

  async toggleRecording(): Promise<void> {
    const recording = this.store.getState().recording;
    if (!this.recorder) {
      this.store.setState({ recorderMessage: 'no recorder is attached to this app' });
      return;
    }
    try {
      if (recording) {
        await this.recorder.stop();
        this.store.setState({ recording: false, recorderMessage: 'recording stopped' });
      } else {
        await this.recorder.start({ input: this.store.getState().input, startedAtMs: performance.now() });
        this.store.setState({ recording: true, recorderMessage: 'recording' });
      }
    } catch (e) {
      this.store.setState({ recording: false, recorderMessage: `recording failed: ${(e as Error).message}` });
    }
  }

  /**
   * Sends every tracker result's blendshapes to an OSC bridge (`npm run osc-bridge`) at a ws:// URL;
   * null turns it off. Nothing is sent anywhere unless the user asks for it.
   */
  setOsc(url: string | null): void {
    this.osc?.close();
    this.osc = null;
    if (url === null) {
      this.store.setState((s) => ({ osc: { ...s.osc, url: null, state: 'off', error: null } }));
      return;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      this.store.setState((s) => ({ osc: { ...s.osc, url: null, state: 'off', error: `"${url}" is not a URL; the OSC bridge listens at ${DEFAULT_OSC_BRIDGE_URL}` } }));
      return;
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      this.store.setState((s) => ({ osc: { ...s.osc, url: null, state: 'off', error: `the OSC bridge URL must start with ws:// or wss://, got "${url}"` } }));
      return;
    }
    this.store.setState((s) => ({ osc: { ...s.osc, url: parsed.href, state: 'connecting', error: null, sent: 0 } }));
    this.osc = connectOscBridge(parsed.href, {
      onStateChange: (state) => this.store.setState((s) => ({ osc: { ...s.osc, state: state === 'closed' ? 'off' : state, ...(state === 'open' ? { error: null } : {}) } })),
      onError: (message) => this.store.setState((s) => ({ osc: { ...s.osc, error: `the bridge refused an update: ${message}` } })),
    });
  }

  loadAvatar(url: string, name = url): void {
    this.store.setState({ avatarSource: { url, name }, avatarLoading: true, avatarError: null });
  }

  async trackerStats() {
    return this.session.tracker ? this.session.tracker.stats() : null;
  }

  dispose(): void {
    this.running = false;
    this.session.dispose();
    this.source?.stop();
    this.source = null;
    this.osc?.close();
    this.osc = null;
    this.study.dispose();
  }
}

/** The tracker's error, with "not found" where the model file is simply not there. */
async function explainModelFailure(modelUrl: string, error: Error): Promise<string> {
  if (!(error instanceof TrackerError) || (error.code !== 'model-missing' && error.code !== 'model-corrupt')) return error.message;
  const missing = await probeMissing(modelUrl);
  return missing ? `the model ${modelUrl} was not found: ${missing}` : error.message;
}
