/**
 * The shared preprocessing on real FER+ faces: a frame that holds a training image must come out
 * exactly as the training pipeline (tools/data/batches.ts) feeds that image to the model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS, FACE_SIZE } from '../src/core/face-geometry.js';
import { occlude } from '../src/core/occlusion.js';
import {
  boxToPixels, faceFromRgba, preprocessFrame, PreprocessError, resizeArea, squareFaceBox, visibleSpread, BLANK_SPREAD,
} from '../src/core/preprocess.js';
import { makeBatch } from '../tools/data/batches.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { DATA_DIR } from './helpers/data.js';

let split: LabelledSplit;
const N = 64;

/** An RGBA frame holding face i, each source pixel repeated `scale` times in x and y, at (left, top) of a w x h frame. */
function frameOf(face: Uint8Array, scale = 1, w = FACE_SIZE * scale, h = FACE_SIZE * scale, left = 0, top = 0, background = 90): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(w * h * 4).fill(background);
  for (let y = 0; y < FACE_SIZE * scale; y++) {
    for (let x = 0; x < FACE_SIZE * scale; x++) {
      const v = face[Math.floor(y / scale) * FACE_SIZE + Math.floor(x / scale)];
      const o = ((top + y) * w + left + x) * 4;
      rgba[o] = v; rgba[o + 1] = v; rgba[o + 2] = v; rgba[o + 3] = 255;
    }
  }
  return rgba;
}

const faceAt = (i: number) => split.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS);

beforeAll(() => {
  split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority');
});

describe('preprocessFrame matches the training pipeline on real FER+ faces', () => {
  it('a 48x48 frame holding a training face gives exactly the training input (occluded, /255)', () => {
    const indices = Int32Array.from({ length: N }, (_, i) => i);
    const batch = makeBatch(split, indices, 'lower', null, Math.random);
    for (let i = 0; i < N; i++) {
      const input = preprocessFrame(frameOf(faceAt(i)), FACE_SIZE, FACE_SIZE, { x: 0, y: 0, width: FACE_SIZE, height: FACE_SIZE });
      expect(Array.from(input)).toEqual(Array.from(batch.faces.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS)));
    }
  });

  it('a face shown 4x larger inside a bigger camera frame, cropped by its box, gives the same input', () => {
    const indices = Int32Array.from({ length: 16 }, (_, i) => i);
    const batch = makeBatch(split, indices, 'lower', null, Math.random);
    const w = 320, h = 240, left = 70, top = 30;
    for (let i = 0; i < 16; i++) {
      const frame = frameOf(faceAt(i), 4, w, h, left, top);
      const crop = boxToPixels({ x: left / w, y: top / h, width: 192 / w, height: 192 / h }, w, h)!;
      expect(crop).toEqual({ x: left, y: top, width: 192, height: 192 });
      const input = preprocessFrame(frame, w, h, crop);
      expect(Array.from(input)).toEqual(Array.from(batch.faces.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS)));
    }
  });

  it("a lower-face camera image (mouth and jaw only) placed 'lower-half' lands where training sees it", () => {
    for (let i = 0; i < N; i++) {
      const face = faceAt(i);
      // The head-mounted camera sees only the lower half: rows 24-47, here at 2x its resolution.
      const lower = face.slice(FACE_PIXELS / 2);
      const camW = 96, camH = 48;
      const rgba = new Uint8ClampedArray(camW * camH * 4);
      for (let y = 0; y < camH; y++) for (let x = 0; x < camW; x++) {
        const v = lower[Math.floor(y / 2) * FACE_SIZE + Math.floor(x / 2)];
        rgba.set([v, v, v, 255], (y * camW + x) * 4);
      }
      const placed = faceFromRgba(rgba, camW, camH, { x: 0, y: 0, width: camW, height: camH }, 'lower-half');
      const expected = occlude(Float32Array.from(face), 'lower');
      expect(Array.from(placed)).toEqual(Array.from(expected));
    }
  });
});

describe('resizeArea', () => {
  it('is the identity at equal size and averages whole blocks on integer ratios', () => {
    const face = Float32Array.from(faceAt(0));
    expect(Array.from(resizeArea(face, 48, 48, 48, 48))).toEqual(Array.from(face));
    const half = resizeArea(face, 48, 48, 24, 24);
    for (const [y, x] of [[0, 0], [5, 7], [23, 23]]) {
      const mean = (face[2 * y * 48 + 2 * x] + face[2 * y * 48 + 2 * x + 1] + face[(2 * y + 1) * 48 + 2 * x] + face[(2 * y + 1) * 48 + 2 * x + 1]) / 4;
      expect(half[y * 24 + x]).toBeCloseTo(mean, 4);
    }
  });

  it('keeps the mean brightness on non-integer ratios', () => {
    const src = Float32Array.from({ length: 100 * 70 }, (_, i) => (i * 37) % 256);
    const out = resizeArea(src, 100, 70, 48, 48);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(src), 2);
  });
});

describe('bad frames', () => {
  it('a black frame or a flat one is rejected as blank, a real face is not', () => {
    const black = new Uint8ClampedArray(64 * 64 * 4);
    expect(() => preprocessFrame(black, 64, 64, { x: 0, y: 0, width: 64, height: 64 })).toThrow(PreprocessError);
    const grey = new Uint8ClampedArray(64 * 64 * 4).fill(128);
    expect(() => preprocessFrame(grey, 64, 64, { x: 0, y: 0, width: 64, height: 64 })).toThrow(/blank/);
    // Black only above the mouth (a headset) is fine: that half is hidden anyway.
    const face = faceFromRgba(frameOf(faceAt(1)), 48, 48, { x: 0, y: 0, width: 48, height: 48 });
    expect(visibleSpread(face)).toBeGreaterThan(BLANK_SPREAD);
  });

  it('a box outside the frame or of zero size has no pixels', () => {
    expect(boxToPixels({ x: 1.2, y: 0, width: 0.5, height: 0.5 }, 640, 480)).toBeNull();
    expect(boxToPixels({ x: 0, y: 0, width: 0, height: 0.5 }, 640, 480)).toBeNull();
    expect(boxToPixels({ x: 0, y: 0, width: NaN, height: 0.5 }, 640, 480)).toBeNull();
    expect(boxToPixels({ x: 0, y: 0, width: 1, height: 1 }, 0, 0)).toBeNull();
    expect(boxToPixels({ x: -0.1, y: 0.5, width: 0.3, height: 0.9 }, 100, 100)).toEqual({ x: 0, y: 50, width: 20, height: 50 });
    expect(() => faceFromRgba(new Uint8ClampedArray(16), 2, 2, { x: 0, y: 0, width: 3, height: 2 })).toThrow(PreprocessError);
  });
});

it('squareFaceBox centres a square, scaled crop on the detection', () => {
  const box = squareFaceBox({ x: 100, y: 50, width: 80, height: 100 }, 400, 200, 1.2);
  expect(box.width * 400).toBeCloseTo(120);
  expect(box.height * 200).toBeCloseTo(120);
  expect((box.x + box.width / 2) * 400).toBeCloseTo(140);
  expect((box.y + box.height / 2) * 200).toBeCloseTo(100);
});
