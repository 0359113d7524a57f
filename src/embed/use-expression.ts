/**
 * useExpression(): an ExpressionSession owned by a React component: a tracker fed from a camera, a
 * stream or a video element, on its own timer (never the render loop). The latest result lives on
 * the returned handle, not in React state, so 30 results a second re-render nothing: read
 * `expression.latest` inside useFrame. Status changes (loading → ready, errors) do re-render.
 *
 *   const expression = useExpression({ modelUrl: '/models/halfface/model.json', source: 'camera' });
 *   <ExpressionAvatar expression={expression} url="/me.vrm" />
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { LoadProgress, TrackerOptions, TrackResult } from '../tracker/index.js';
import { ExpressionSession, type ExpressionHandle, type ExpressionInput } from './expression-session.js';

export type { ExpressionHandle, ExpressionInput, ExpressionStatus } from './expression-session.js';

export interface UseExpressionOptions extends Omit<TrackerOptions, 'onStateChange'> {
  /** what to track: 'camera' opens the default user-facing camera; null pauses */
  source: ExpressionInput;
  /** tracking rate cap, frames per second (default 30) */
  maxFps?: number;
  /** every result, as it arrives (e.g. recorder.push, an OSC bridge client) */
  onResult?: (result: TrackResult) => void;
}

export function useExpression(options: UseExpressionOptions): ExpressionHandle {
  const { source, maxFps = 30, onResult, onProgress, modelUrl, roi, smoothing, worker, backend, wasmPaths } = options;
  // Callbacks are read when called: a new function each render must not restart anything.
  const callbacks = useRef<{ onResult?: (result: TrackResult) => void; onProgress?: (progress: LoadProgress) => void }>({});
  useEffect(() => {
    callbacks.current = { onResult, onProgress };
  });
  // Created once and inert until the effects below give it a tracker and a source, so the instance
  // StrictMode builds and throws away holds nothing.
  const [session] = useState(() => new ExpressionSession({ onResult: (result) => callbacks.current.onResult?.(result) }));
  useSyncExternalStore(session.subscribe, session.snapshot);

  useEffect(() => {
    session.maxFps = maxFps;
  }, [session, maxFps]);

  // Objects compared by value: a literal roi={{...}} in the caller must not recreate the tracker each render.
  const trackerKey = JSON.stringify({ modelUrl, roi, smoothing, worker, backend, wasmPaths });
  useEffect(() => {
    const trackerOptions: TrackerOptions = { ...(JSON.parse(trackerKey) as TrackerOptions), onProgress: (p) => callbacks.current.onProgress?.(p) };
    session.setTracker(trackerOptions).catch(() => { /* status and error say it */ });
    return () => void session.setTracker(null);
  }, [session, trackerKey]);

  // Each mount takes the source and each cleanup lets it go: a camera still opening when StrictMode
  // unmounts, or when the source changes, is stopped as soon as it opens.
  useEffect(() => {
    session.setSource(source);
    return () => session.setSource(null);
  }, [session, source]);

  return session;
}
