/**
 * ExpressionSession: a tracker, the video it reads and the loop between them, without React. The
 * loop is a timer chain, not the render loop: a slow inference never holds up a frame, and the
 * newest result waits on `latest` for whoever draws. useExpression() is a session per component;
 * the app's controller holds one too, so the library and the app track the same way.
 *
 *   const session = new ExpressionSession({ onResult: (r) => osc.send(r.blendshapes) });
 *   await session.setTracker({ modelUrl: '/models/halfface/model.json' });
 *   session.setSource('camera');
 *   // each frame: avatar.apply(session.latest)
 *   session.dispose();
 */
import { ExpressionTracker, openCamera, TrackerError, type TrackerErrorCode, type TrackerOptions, type TrackResult } from '../tracker/index.js';

/** What to track: 'camera' opens the default user-facing camera; null tracks nothing. */
export type ExpressionInput = HTMLVideoElement | MediaStream | 'camera' | null;

export type ExpressionStatus = 'loading' | 'ready' | 'error';

/** What useExpression returns: a session, the same object for the component's lifetime. */
export interface ExpressionHandle {
  /** the newest result (null before the first, or after the source went away) */
  readonly latest: TrackResult | null;
  /** 'error' while the tracker could not be created or the source could not be opened */
  readonly status: ExpressionStatus;
  /** why: the tracker's or the source's failure, else a frame's that is not an ordinary moment */
  readonly error: Error | null;
  readonly tracker: ExpressionTracker | null;
  /** frames tracked since the source was attached */
  readonly frames: number;
  /** holds a neutral face for `durationMs` and calibrates to it (see ExpressionTracker.calibrateNeutral) */
  calibrateNeutral(durationMs?: number): Promise<void>;
}

export interface ExpressionSessionOptions {
  /** tracking rate cap, frames per second (default 30: cameras give no more, and more would only queue work) */
  maxFps?: number;
  /** every result, as it arrives (e.g. recorder.push, an OSC bridge client) */
  onResult?: (result: TrackResult) => void;
  /**
   * A frame failed in a way that is not an ordinary moment; once per distinct failure, not once
   * per frame that fails the same way.
   */
  onFrameError?: (error: Error) => void;
  /** Seams (tests pass fakes): how trackers are created, the camera opened, a stream shown. */
  createTracker?: (options: TrackerOptions) => Promise<ExpressionTracker>;
  openCamera?: () => Promise<MediaStream>;
  videoFor?: (stream: MediaStream) => HTMLVideoElement;
}

/** Frames that cannot be read (covered camera, no face yet, a GPU reset under way): keep going, show nothing. */
const ORDINARY_FRAME_FAILURES: ReadonlySet<TrackerErrorCode> = new Set(['bad-frame', 'context-lost', 'disposed']);

function videoForStream(stream: MediaStream): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  return video;
}

function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

const isStream = (input: HTMLVideoElement | MediaStream): input is MediaStream => typeof (input as MediaStream).getTracks === 'function';

export class ExpressionSession implements ExpressionHandle {
  latest: TrackResult | null = null;
  tracker: ExpressionTracker | null = null;
  frames = 0;
  maxFps: number;
  onResult: ((result: TrackResult) => void) | undefined;
  onFrameError: ((error: Error) => void) | undefined;

  private trackerError: Error | null = null;
  private sourceError: Error | null = null;
  private frameError: Error | null = null;
  private pausedFlag = false;
  private trackerRequest = 0;
  private sourceRequest = 0;
  private video: HTMLVideoElement | null = null;
  private release: (() => void) | null = null;
  /** the running loop's identity: a tick of a stopped loop must not schedule another */
  private loop: object | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly createTracker: (options: TrackerOptions) => Promise<ExpressionTracker>;
  private readonly openCamera: () => Promise<MediaStream>;
  private readonly videoFor: (stream: MediaStream) => HTMLVideoElement;

  constructor(options: ExpressionSessionOptions = {}) {
    this.maxFps = options.maxFps ?? 30;
    this.onResult = options.onResult;
    this.onFrameError = options.onFrameError;
    this.createTracker = options.createTracker ?? ((o) => ExpressionTracker.create(o));
    this.openCamera = options.openCamera ?? (() => openCamera());
    this.videoFor = options.videoFor ?? videoForStream;
  }

  get status(): ExpressionStatus {
    if (this.trackerError || this.sourceError) return 'error';
    return this.tracker ? 'ready' : 'loading';
  }

  get error(): Error | null {
    return this.trackerError ?? this.sourceError ?? this.frameError;
  }

  /** Tracking stops while paused (the source and tracker stay); `latest` is cleared. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  set paused(paused: boolean) {
    this.pausedFlag = paused;
    if (paused) this.latest = null;
  }

  /**
   * Called whenever status, error or tracker change (not on results: read `latest` when drawing).
   * The shape useSyncExternalStore wants, with `snapshot` as its getSnapshot.
   */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Changes whenever a subscriber would be called. */
  readonly snapshot = (): number => this.version;

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Replaces the tracker (the previous one is disposed at once; null leaves none). Resolves with the
   * new tracker once it is ready, or null when another setTracker() or dispose() came first (a
   * tracker that arrives late is disposed); rejects with the creation error, which `error` shows too.
   */
  async setTracker(options: TrackerOptions | null): Promise<ExpressionTracker | null> {
    const request = ++this.trackerRequest;
    this.tracker?.dispose();
    this.tracker = null;
    this.trackerError = null;
    this.frameError = null;
    this.changed();
    if (!options || this.disposed) return null;
    let tracker: ExpressionTracker;
    try {
      tracker = await this.createTracker(options);
    } catch (e) {
      if (request !== this.trackerRequest) return null;
      this.trackerError = e as Error;
      this.changed();
      throw e;
    }
    if (request !== this.trackerRequest) {
      tracker.dispose();
      return null;
    }
    this.tracker = tracker;
    this.changed();
    return tracker;
  }

  /**
   * Tracks another input from the next frame on; the previous one is let go (a camera the session
   * opened is stopped, even one still being opened). A video element or stream you pass stays yours.
   */
  setSource(input: ExpressionInput): void {
    const request = ++this.sourceRequest;
    this.release?.();
    this.release = null;
    this.video = null;
    this.stopLoop();
    this.latest = null;
    this.frames = 0;
    // A new source gets a fresh start: the previous one's failure (no camera) is not this one's.
    if (this.sourceError || this.frameError) {
      this.sourceError = null;
      this.frameError = null;
      this.changed();
    }
    if (!input || this.disposed) return;
    if (input === 'camera') {
      let stream: MediaStream | null = null;
      let released = false;
      this.release = () => {
        released = true;
        stopTracks(stream);
      };
      this.openCamera().then(
        (opened) => {
          stream = opened;
          // Let go while getUserMedia was pending (StrictMode's second mount, a quick source change):
          // the camera must not stay on with nobody reading it.
          if (released || request !== this.sourceRequest) return stopTracks(opened);
          this.attach(this.videoFor(opened));
        },
        (e: Error) => {
          if (released || request !== this.sourceRequest) return;
          this.sourceError = e;
          this.changed();
        },
      );
      return;
    }
    if (isStream(input)) {
      const video = this.videoFor(input);
      this.release = () => { video.srcObject = null; };
      this.attach(video);
    } else this.attach(input);
  }

  private attach(video: HTMLVideoElement): void {
    this.video = video;
    if (video.paused) video.play().catch(() => { /* autoplay rules: frames come once the user interacts */ });
    const loop = {};
    this.loop = loop;
    void this.tick(loop);
  }

  private stopLoop(): void {
    this.loop = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async tick(loop: object): Promise<void> {
    this.timer = null;
    const started = performance.now();
    const { tracker, video } = this;
    if (tracker && video && !this.pausedFlag && tracker.state === 'ready' && video.readyState >= 2) {
      try {
        const result = await tracker.track(video, performance.now());
        // A result of a tracker or video since replaced describes what is no longer tracked.
        if (result && tracker === this.tracker && video === this.video && !this.pausedFlag) {
          this.latest = result;
          this.frames++;
          this.onResult?.(result);
        }
      } catch (e) {
        if (tracker === this.tracker && video === this.video) this.frameFailed(e as Error);
      }
    }
    if (this.loop !== loop) return;
    const intervalMs = 1000 / Math.max(1, this.maxFps);
    this.timer = setTimeout(() => void this.tick(loop), Math.max(0, intervalMs - (performance.now() - started)));
  }

  private frameFailed(error: Error): void {
    if (error instanceof TrackerError && ORDINARY_FRAME_FAILURES.has(error.code)) return;
    // The same failure frame after frame is one event: re-rendering 30 times a second would not say more.
    const previous = this.frameError;
    if (previous && previous.name === error.name && previous.message === error.message) return;
    this.frameError = error;
    this.changed();
    this.onFrameError?.(error);
  }

  calibrateNeutral(durationMs?: number): Promise<void> {
    if (!this.tracker) return Promise.reject(new TrackerError('calibration-failed', 'the tracker is not ready yet'));
    return this.tracker.calibrateNeutral(durationMs);
  }

  /** Lets the source go and disposes the tracker; the session tracks nothing after this. */
  dispose(): void {
    this.setSource(null);
    void this.setTracker(null);
    this.disposed = true;
    this.listeners.clear();
  }
}
