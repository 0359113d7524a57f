/**
 * useExpression(): an ExpressionTracker owned by a React component, fed from a camera, a stream or
 * a video element, on its own timer (never the render loop). The latest result lives on the
 * returned handle, not in React state, so 30 results a second re-render nothing: read
 * `expression.latest` inside useFrame. Status changes (loading → ready, errors) do re-render.
 *
 *   const expression = useExpression({ modelUrl: '/models/student/model.json', source: 'camera' });
 *   <ExpressionAvatar expression={expression} url="/me.vrm" />
 */
import { useEffect, useMemo, useState } from 'react';
import { ExpressionTracker, openCamera, TrackerError, type TrackerOptions, type TrackResult } from '../tracker/index.js';

export type ExpressionInput = HTMLVideoElement | MediaStream | 'camera' | null;

export interface UseExpressionOptions extends Omit<TrackerOptions, 'onStateChange'> {
  /** what to track: 'camera' opens the default user-facing camera; null pauses */
  source: ExpressionInput;
  /** tracking rate cap, frames per second (default 30) */
  maxFps?: number;
  /** every result, as it arrives (e.g. recorder.push, an OSC bridge client) */
  onResult?: (result: TrackResult) => void;
}

export type ExpressionStatus = 'loading' | 'ready' | 'error';

/** What useExpression returns; the same object for the component's lifetime. */
export interface ExpressionHandle {
  /** the newest result (null before the first, or after the source went away) */
  latest: TrackResult | null;
  status: ExpressionStatus;
  error: Error | null;
  tracker: ExpressionTracker | null;
  /** frames tracked since the source was attached */
  frames: number;
  /** holds a neutral face for `durationMs` and calibrates to it (see ExpressionTracker.calibrateNeutral) */
  calibrateNeutral(durationMs?: number): Promise<void>;
}

function videoFor(stream: MediaStream): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  return video;
}

export function useExpression(options: UseExpressionOptions): ExpressionHandle {
  const [, rerender] = useState(0);
  const handle = useMemo<ExpressionHandle>(() => ({
    latest: null, status: 'loading', error: null, tracker: null, frames: 0,
    calibrateNeutral(durationMs?: number) {
      if (!this.tracker) return Promise.reject(new TrackerError('calibration-failed', 'the tracker is not ready yet'));
      return this.tracker.calibrateNeutral(durationMs);
    },
  }), []);
  const { source, maxFps = 30, onResult, modelUrl, roi, smoothing, worker, backend, wasmPaths } = options;
  // Objects compared by value: a literal roi={{...}} in the caller must not recreate the tracker each render.
  const trackerKey = JSON.stringify({ modelUrl, roi, smoothing, worker, backend, wasmPaths });
  const [tracker, setTracker] = useState<ExpressionTracker | null>(null);

  const set = (patch: Partial<ExpressionHandle>) => {
    Object.assign(handle, patch);
    rerender((n) => n + 1);
  };

  useEffect(() => {
    let cancelled = false;
    let created: ExpressionTracker | null = null;
    set({ status: 'loading', error: null, tracker: null });
    ExpressionTracker.create(JSON.parse(trackerKey) as TrackerOptions).then(
      (t) => {
        if (cancelled) return t.dispose();
        created = t;
        setTracker(t);
        set({ status: 'ready', tracker: t });
      },
      (e: Error) => { if (!cancelled) set({ status: 'error', error: e }); },
    );
    return () => {
      cancelled = true;
      created?.dispose();
      setTracker(null);
      handle.tracker = null;
    };
  }, [trackerKey]);

  const onResultRef = useMemo(() => ({ current: onResult }), []);
  onResultRef.current = onResult;

  useEffect(() => {
    if (!tracker || !source) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let ownedStream: MediaStream | null = null;
    let video: HTMLVideoElement | null = null;
    const intervalMs = 1000 / Math.max(1, maxFps);
    handle.frames = 0;
    // A new source gets a fresh start: the previous one's failure (no camera) is not this one's.
    if (handle.status === 'error' && handle.tracker === tracker) set({ status: 'ready', error: null });

    const loop = async () => {
      if (stopped || !video) return;
      const started = performance.now();
      if (tracker.state === 'ready' && video.readyState >= 2) {
        try {
          const result = await tracker.track(video, performance.now());
          if (result && !stopped) {
            handle.latest = result;
            handle.frames++;
            onResultRef.current?.(result);
          }
        } catch (e) {
          // Unreadable frames (covered camera, no face yet) are ordinary moments; anything else is shown.
          if (!(e instanceof TrackerError) || !['bad-frame', 'context-lost', 'disposed'].includes(e.code)) set({ error: e as Error });
        }
      }
      if (!stopped) timer = setTimeout(loop, Math.max(0, intervalMs - (performance.now() - started)));
    };

    (async () => {
      try {
        if (source === 'camera') ownedStream = await openCamera();
        if (stopped) return;
        video = source instanceof HTMLVideoElement ? source : videoFor(ownedStream ?? (source as MediaStream));
        if (video.paused) await video.play().catch(() => { /* autoplay rules: frames come once the user interacts */ });
        void loop();
      } catch (e) {
        if (!stopped) set({ status: 'error', error: e as Error });
      }
    })();

    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const track of ownedStream?.getTracks() ?? []) track.stop();
      handle.latest = null;
    };
  }, [tracker, source, maxFps]);

  return handle;
}
