/** Which region of interest the tracker uses for an input. Pure: the controller supplies the stored calibration. */
import type { Box } from '../../core/preprocess.js';
import type { RoiOptions } from '../../tracker/index.js';
import { DEMO_FACE_BOX } from '../../capture/demo-face.js';
import type { StoredRoi } from '../../capture/roi-store.js';
import type { InputKind } from './store.js';

/** The centred square of a 4:3 frame: where a frontal face usually is when the detector finds none. */
export const CENTRE_BOX: Box = Object.freeze({ x: 0.2, y: 0.1, width: 0.6, height: 0.8 });

export function roiFor(kind: InputKind, stored: StoredRoi | null): RoiOptions {
  if (kind === 'demo') return { mode: 'fixed', box: DEMO_FACE_BOX, placement: 'face' };
  if (stored) return { mode: 'fixed', box: stored.box, placement: stored.placement };
  return { mode: 'detector', fallbackBox: CENTRE_BOX };
}

export function describeRoi(roi: RoiOptions, box?: Box | null): string {
  const fmt = (b: Box) => `${(b.x * 100).toFixed(0)},${(b.y * 100).toFixed(0)} ${(b.width * 100).toFixed(0)}×${(b.height * 100).toFixed(0)}%`;
  if (roi.mode === 'fixed') return `fixed (${roi.placement ?? 'lower-half'}) ${fmt(roi.box)}`;
  if (roi.mode === 'full') return 'whole frame';
  return box ? `face detector ${fmt(box)}` : 'face detector';
}
