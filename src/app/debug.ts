/**
 * window.__halfface: a read-only snapshot of the running app for tests, benchmarks and people
 * poking at it in devtools. Every read returns fresh plain data; nothing in it controls the app.
 */
import type { ScenePort } from './scene/probe.js';
import type { AppController } from './state/controller.js';

export function snapshot(controller: AppController, port: ScenePort) {
  const s = controller.store.getState();
  const latest = s.latest;
  return {
    trackerStatus: s.trackerStatus,
    trackerMessage: s.trackerMessage,
    trackerInWorker: s.trackerInWorker,
    trackerFallback: s.trackerFallback,
    trackerBackend: s.trackerBackend,
    loadProgress: s.loadProgress,
    loadStages: [...s.loadStages],
    modelNotice: s.modelNotice,
    trackRate: s.trackRate,
    inferenceMs: s.inferenceMs,
    renderFps: port.fps(),
    input: s.input,
    inputNotice: s.inputNotice,
    roi: s.roi,
    trackedFrames: s.trackedFrames,
    latest: latest && {
      label: latest.label, confidence: latest.confidence, probabilities: latest.probabilities, blendshapes: latest.blendshapes,
      mouth: latest.mouth, visemes: latest.visemes, roi: latest.roi, timings: latest.timings,
    },
    avatar: { ...s.avatar, loading: s.avatarLoading, error: s.avatarError, rendered: port.avatarKind },
    morph: { ...port.morph },
    frames: port.frames,
    xrFrames: port.xrFrames,
    presenting: s.presenting,
    avatarInView: port.avatarInView,
    panelInView: port.panelInView,
    screenRects: port.screenRects,
    roomShown: port.roomShown,
    avatarY: port.avatarY,
    viewerY: port.viewerY,
    triangles: port.triangles,
    calibration: s.calibration,
    recording: s.recording,
    osc: s.osc,
    study: (({ recording: _recording, ...rest }) => rest)(s.study),
    history: port.history.map((h) => ({ ...h })),
  };
}

export type HalffaceSnapshot = ReturnType<typeof snapshot>;

declare global {
  interface Window { readonly __halfface?: HalffaceSnapshot }
}

export function installDebugSnapshot(controller: AppController, port: ScenePort): void {
  Object.defineProperty(window, '__halfface', { configurable: true, get: () => snapshot(controller, port) });
}
