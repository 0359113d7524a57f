/**
 * Frame pixels → model input, the same steps in the browser and in tools/: crop the region of
 * interest → grey (BT.601 luma, as FER2013 was made) → area resize to the face geometry → round to
 * 8 bits (the training images are 8-bit PNGs) → place into the 48x48 face → occlude('lower') → /255.
 * Pure functions on plain arrays: no DOM, no tfjs.
 */
import { FACE_PIXELS, FACE_SIZE, luma, normalisePixel } from './face-geometry.js';
import { hiddenRows, occlude, type Occlusion } from './occlusion.js';

/** A rectangle in normalised frame coordinates (0..1 of width and height). */
export interface Box { x: number; y: number; width: number; height: number }
/** A rectangle in whole pixels. */
export interface PixelBox { x: number; y: number; width: number; height: number }

/**
 * Where the cropped image goes in the 48x48 face.
 * face: the crop is a whole face (frontal camera, FER-style), resized to 48x48; the upper half is
 * then blacked out like in training.
 * lower-half: the crop shows only mouth and jaw (a camera under a headset); it is resized to
 * 48x24 and put in rows 24-47, the visible half training sees, rows 0-23 stay black.
 */
export type Placement = 'face' | 'lower-half';
export const PLACEMENTS: readonly Placement[] = ['face', 'lower-half'];

export const FULL_FRAME: Box = Object.freeze({ x: 0, y: 0, width: 1, height: 1 });

export class PreprocessError extends Error {
  constructor(message: string, readonly reason: 'empty' | 'blank' | 'invalid') {
    super(message);
    this.name = 'PreprocessError';
  }
}

/** True when every field is a finite number and the box has positive size. */
export function isValidBox(box: Box): boolean {
  return [box.x, box.y, box.width, box.height].every(Number.isFinite) && box.width > 0 && box.height > 0;
}

/**
 * The whole-pixel rectangle of a normalised box, clipped to the frame. Edges are rounded, not the
 * size, so adjacent boxes tile. Null when nothing of it lies inside the frame.
 */
export function boxToPixels(box: Box, frameWidth: number, frameHeight: number): PixelBox | null {
  if (!isValidBox(box) || !(frameWidth > 0) || !(frameHeight > 0)) return null;
  const x0 = Math.max(0, Math.round(box.x * frameWidth));
  const y0 = Math.max(0, Math.round(box.y * frameHeight));
  const x1 = Math.min(frameWidth, Math.round((box.x + box.width) * frameWidth));
  const y1 = Math.min(frameHeight, Math.round((box.y + box.height) * frameHeight));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Grey values (unrounded luma) of a rectangle of an RGBA frame. */
export function greyCrop(rgba: ArrayLike<number>, frameWidth: number, crop: PixelBox): Float32Array {
  const out = new Float32Array(crop.width * crop.height);
  for (let y = 0; y < crop.height; y++) {
    let src = ((crop.y + y) * frameWidth + crop.x) * 4;
    const row = y * crop.width;
    for (let x = 0; x < crop.width; x++, src += 4) out[row + x] = luma(rgba[src], rgba[src + 1], rgba[src + 2]);
  }
  return out;
}

/**
 * For each output cell along one axis: the source indices it covers and the fraction of each.
 * Area (box-filter) resampling: every source pixel contributes by the share of it the output cell
 * covers, which is exact for integer ratios, alias-free when shrinking, and the identity when sizes match.
 */
function areaWeights(srcSize: number, dstSize: number): { start: number; weights: Float64Array }[] {
  const scale = srcSize / dstSize;
  const cells = [];
  for (let d = 0; d < dstSize; d++) {
    const from = d * scale;
    const to = (d + 1) * scale;
    const start = Math.floor(from);
    const end = Math.min(srcSize, Math.ceil(to));
    const weights = new Float64Array(end - start);
    for (let s = start; s < end; s++) weights[s - start] = (Math.min(to, s + 1) - Math.max(from, s)) / scale;
    cells.push({ start, weights });
  }
  return cells;
}

/** Area resize of a single-channel image. */
export function resizeArea(src: ArrayLike<number>, srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Float32Array {
  if (src.length !== srcWidth * srcHeight) throw new PreprocessError(`resizeArea: ${src.length} values for ${srcWidth}x${srcHeight}`, 'invalid');
  const cols = areaWeights(srcWidth, dstWidth);
  const rows = areaWeights(srcHeight, dstHeight);
  const tmp = new Float64Array(srcHeight * dstWidth);
  for (let y = 0; y < srcHeight; y++) {
    for (let dx = 0; dx < dstWidth; dx++) {
      const { start, weights } = cols[dx];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * src[y * srcWidth + start + k];
      tmp[y * dstWidth + dx] = sum;
    }
  }
  const out = new Float32Array(dstWidth * dstHeight);
  for (let dy = 0; dy < dstHeight; dy++) {
    const { start, weights } = rows[dy];
    for (let x = 0; x < dstWidth; x++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * tmp[(start + k) * dstWidth + x];
      out[dy * dstWidth + x] = sum;
    }
  }
  return out;
}

/** Rows of the 48x48 face that a placement fills: [start, end). */
export function placementRows(placement: Placement): [number, number] {
  return placement === 'lower-half' ? [FACE_SIZE / 2, FACE_SIZE] : [0, FACE_SIZE];
}

/**
 * 8-bit grey 48x48 face (as a float array of integers 0..255) from a crop of an RGBA frame,
 * before occlusion and normalisation. What a FER+ PNG holds, for a camera frame.
 */
export function faceFromRgba(rgba: ArrayLike<number>, frameWidth: number, frameHeight: number, crop: PixelBox, placement: Placement = 'face'): Float32Array {
  if (rgba.length < frameWidth * frameHeight * 4) {
    throw new PreprocessError(`frame holds ${rgba.length} bytes, ${frameWidth}x${frameHeight} RGBA needs ${frameWidth * frameHeight * 4}`, 'invalid');
  }
  if (crop.width <= 0 || crop.height <= 0 || crop.x < 0 || crop.y < 0 || crop.x + crop.width > frameWidth || crop.y + crop.height > frameHeight) {
    throw new PreprocessError(`crop ${JSON.stringify(crop)} is empty or outside the ${frameWidth}x${frameHeight} frame`, 'empty');
  }
  const [rowStart, rowEnd] = placementRows(placement);
  const resized = resizeArea(greyCrop(rgba, frameWidth, crop), crop.width, crop.height, FACE_SIZE, rowEnd - rowStart);
  const face = new Float32Array(FACE_PIXELS);
  for (let i = 0; i < resized.length; i++) face[rowStart * FACE_SIZE + i] = Math.round(resized[i]);
  return face;
}

/** Occlusion then normalisation, in place: the tail of the training pipeline (tools/data/batches.ts). */
export function toModelInput(face: Float32Array, occlusion: Occlusion = 'lower'): Float32Array {
  for (let i = 0; i < face.length; i++) face[i] = normalisePixel(face[i]);
  return occlude(face, occlusion);
}

/** Spread (standard deviation, in grey levels 0..255) of the rows the model will see. */
export function visibleSpread(face: ArrayLike<number>, occlusion: Occlusion = 'lower'): number {
  const [hiddenStart, hiddenEnd] = hiddenRows(occlusion);
  let n = 0, sum = 0, sumSq = 0;
  for (let y = 0; y < FACE_SIZE; y++) {
    if (y >= hiddenStart && y < hiddenEnd) continue;
    for (let x = 0; x < FACE_SIZE; x++) {
      const v = face[y * FACE_SIZE + x];
      n++; sum += v; sumSq += v * v;
    }
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
}

/**
 * Below this spread (grey levels) the visible half is one flat colour: a black, covered or blank
 * frame, not a face. Real FER+ faces sit far above it (their lower halves have spreads of tens).
 */
export const BLANK_SPREAD = 2;

/**
 * The whole path for one frame: model input (48*48 floats, occluded, /255). Throws a
 * PreprocessError ('blank') for a frame with nothing to read, rather than let the model guess.
 */
export function preprocessFrame(rgba: ArrayLike<number>, frameWidth: number, frameHeight: number, crop: PixelBox, placement: Placement = 'face', occlusion: Occlusion = 'lower'): Float32Array {
  const face = faceFromRgba(rgba, frameWidth, frameHeight, crop, placement);
  const spread = visibleSpread(face, occlusion);
  // One NaN pixel makes the spread NaN, which no comparison catches, and the model's output NaN.
  if (!Number.isFinite(spread)) {
    throw new PreprocessError('the region of interest holds pixel values that are not a finite number (NaN or Infinity)', 'invalid');
  }
  if (spread < BLANK_SPREAD) {
    throw new PreprocessError(`the visible part of the region of interest is blank (grey spread ${spread.toFixed(2)} < ${BLANK_SPREAD}): black, covered or empty frame`, 'blank');
  }
  return toModelInput(face, occlusion);
}

/**
 * A face detector's box → the crop the model expects: square (FER2013 crops are square), centred
 * on the detection, scaled by `scale` (detectors box brows-to-chin; FER crops are a little wider),
 * in normalised coordinates of a frame of the given size.
 */
export function squareFaceBox(detection: PixelBox, frameWidth: number, frameHeight: number, scale = 1.1): Box {
  const side = Math.max(detection.width, detection.height) * scale;
  const cx = detection.x + detection.width / 2;
  const cy = detection.y + detection.height / 2;
  return { x: (cx - side / 2) / frameWidth, y: (cy - side / 2) / frameHeight, width: side / frameWidth, height: side / frameHeight };
}
