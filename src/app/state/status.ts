/** The tracker's status as short lines of text: one source for the page's HUD and the in-headset panel. */
import { LOAD_STAGES, type LoadProgress } from '../../tracker/index.js';
import type { AppState, OscStatus } from './store.js';

const STAGE_TEXT: Record<LoadProgress['stage'], string> = {
  'fetching-model': 'fetching the model',
  'starting-gpu': 'starting the backend (WebGL or wasm)',
  'building-model': 'building the model',
  'loading-detector': 'loading the face detector',
  'compiling-shaders': 'warming up (on WebGL: compiling shaders, the slowest step)',
};

export function describeLoad(progress: LoadProgress | null): string {
  if (!progress) return 'loading the expression model…';
  return `loading the expression model: ${STAGE_TEXT[progress.stage]} (${progress.step}/${LOAD_STAGES.length})…`;
}

/** Where inference runs, and why when it is the main thread (that costs frame rate). */
export function describeInference(s: Pick<AppState, 'trackerStatus' | 'trackerInWorker' | 'trackerFallback' | 'trackerBackend'>): string {
  if (s.trackerStatus !== 'ready') return 'inference: not running';
  const backend = s.trackerBackend ? `, ${s.trackerBackend.backend} (${s.trackerBackend.reason})` : '';
  if (s.trackerInWorker) return `inference: in a worker (off the frame loop)${backend}`;
  return `inference: on the main thread${s.trackerFallback ? ` (worker: ${s.trackerFallback})` : ''}${backend}`;
}

/** Speed: render frames/s, tracked frames/s and mean inference time. */
export function describeSpeed(s: Pick<AppState, 'trackerStatus' | 'trackRate' | 'inferenceMs'>, renderFps: number | null): string {
  const render = renderFps != null && Number.isFinite(renderFps) ? `${renderFps.toFixed(0)} fps` : '– fps';
  if (s.trackerStatus !== 'ready') return render;
  const inference = s.inferenceMs != null ? ` · inference ${s.inferenceMs.toFixed(0)} ms` : '';
  return `${render} · tracking ${s.trackRate.toFixed(1)}/s${inference}`;
}

/** The OSC output: off, connecting (with the likely cause), or sending. */
export function describeOsc(osc: OscStatus): string {
  if (osc.state === 'off') return 'OSC: off';
  if (osc.state === 'connecting') return `OSC: connecting to ${osc.url}… (is \`npm run osc-bridge\` running?)`;
  return `OSC: sending to ${osc.url} (${osc.sent} updates)`;
}
