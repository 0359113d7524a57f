/**
 * Calibrated regions of interest, one per camera (deviceId), kept in localStorage: a head-mounted
 * camera is set up once and stays set. Invalid stored data is ignored, never trusted.
 */
import { isValidBox, type Box, type Placement } from '../core/preprocess.js';

export interface StoredRoi { box: Box; placement: Placement }

const KEY_PREFIX = 'halfface.roi.';

export function roiKey(deviceId: string): string {
  return KEY_PREFIX + (deviceId || 'default');
}

/** A box clipped into the unit square, or null when nothing usable remains. */
export function clampBox(box: Box): Box | null {
  const x0 = Math.max(0, Math.min(1, box.x));
  const y0 = Math.max(0, Math.min(1, box.y));
  const x1 = Math.max(0, Math.min(1, box.x + box.width));
  const y1 = Math.max(0, Math.min(1, box.y + box.height));
  const out = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  // under 2% of a side is a click, not a drag
  return isValidBox(out) && out.width >= 0.02 && out.height >= 0.02 ? out : null;
}

/** The box spanned by two corner points (normalised), in either drag direction. */
export function boxFromCorners(a: { x: number; y: number }, b: { x: number; y: number }): Box | null {
  return clampBox({ x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) });
}

export function loadRoi(deviceId: string, storage: Storage = localStorage): StoredRoi | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(roiKey(deviceId)) ?? 'null');
  } catch {
    return null;
  }
  const value = parsed as Partial<StoredRoi> | null;
  if (!value || typeof value !== 'object' || !value.box || (value.placement !== 'face' && value.placement !== 'lower-half')) return null;
  const box = clampBox(value.box);
  return box ? { box, placement: value.placement } : null;
}

export function saveRoi(deviceId: string, roi: StoredRoi, storage: Storage = localStorage): void {
  storage.setItem(roiKey(deviceId), JSON.stringify(roi));
}

export function clearRoi(deviceId: string, storage: Storage = localStorage): void {
  storage.removeItem(roiKey(deviceId));
}
