/**
 * The app's one UI store: a tiny external store read with useSyncExternalStore. Per-frame data
 * (the latest tracker result) lives here too but is read with getState() inside the render loop,
 * so 30 Hz results never re-render React.
 */
import { useSyncExternalStore } from 'react';
import type { BackendChoice, LoadProgress, LoadStage, RoiOptions, TrackResult } from '../../tracker/index.js';
import { initialStudyState, type StudyState } from './study.js';

export interface Store<S> {
  getState(): S;
  setState(patch: Partial<S> | ((state: S) => Partial<S>)): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S extends object>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    setState(patch) {
      const next = typeof patch === 'function' ? patch(state) : patch;
      state = { ...state, ...next };
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore<S extends object, T>(store: Store<S>, select: (state: S) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

export type InputKind = 'camera' | 'file' | 'demo';

export interface InputInfo {
  kind: InputKind;
  /** what the user sees: camera label, file name, "demo face" */
  label: string;
  /** camera deviceId (ROI calibration is stored per device) */
  deviceId?: string;
}

export interface CameraInfo { deviceId: string; label: string }

export type AvatarKind = 'default' | 'vrm' | 'gltf';

export interface OscStatus {
  /** the bridge's WebSocket URL; null while OSC output is off */
  url: string | null;
  state: 'off' | 'connecting' | 'open';
  /** a bad URL, or the bridge's complaint about a message */
  error: string | null;
  /** updates handed to the bridge */
  sent: number;
}

export interface AppState {
  trackerStatus: 'loading' | 'ready' | 'error';
  trackerMessage: string | null;
  trackerInWorker: boolean;
  /** why inference runs on the main thread, when it does (shown: it costs the frame rate) */
  trackerFallback: string | null;
  /** the tfjs backend inference runs on, and why */
  trackerBackend: BackendChoice | null;
  /** the tracker's load stage while trackerStatus is 'loading' */
  loadProgress: LoadProgress | null;
  /** every stage the latest load went through, in order (kept once loaded: a stage can be too short to see) */
  loadStages: LoadStage[];
  /** tracked frames per second over the last seconds, and the mean inference ms of those frames */
  trackRate: number;
  inferenceMs: number | null;
  /** the requested model failed and the default one runs instead: why */
  modelNotice: string | null;
  input: InputInfo | null;
  /** why the app fell back to the demo input, shown until another input is chosen */
  inputNotice: string | null;
  cameras: CameraInfo[];
  roi: RoiOptions;
  latest: TrackResult | null;
  trackedFrames: number;
  trackingEnabled: boolean;
  calibration: 'none' | 'running' | 'done' | 'failed';
  calibrationMessage: string | null;
  recording: boolean;
  avatar: { kind: AvatarKind; name: string };
  /** an avatar to load instead of the default (URL parameter or dropped file) */
  avatarSource: { url: string; name: string } | null;
  avatarLoading: boolean;
  avatarError: string | null;
  xrSupported: boolean;
  presenting: boolean;
  roiEditorOpen: boolean;
  recorderMessage: string | null;
  osc: OscStatus;
  study: StudyState;
}

export const initialAppState: AppState = {
  trackerStatus: 'loading',
  trackerMessage: null,
  trackerInWorker: false,
  trackerFallback: null,
  trackerBackend: null,
  loadProgress: null,
  loadStages: [],
  trackRate: 0,
  inferenceMs: null,
  modelNotice: null,
  input: null,
  inputNotice: null,
  cameras: [],
  roi: { mode: 'full' },
  latest: null,
  trackedFrames: 0,
  trackingEnabled: true,
  calibration: 'none',
  calibrationMessage: null,
  recording: false,
  avatar: { kind: 'default', name: 'halfface default head' },
  avatarSource: null,
  avatarLoading: false,
  avatarError: null,
  xrSupported: false,
  presenting: false,
  roiEditorOpen: false,
  recorderMessage: null,
  osc: { url: null, state: 'off', error: null, sent: 0 },
  study: initialStudyState(null),
};
