import { describe, expect, it } from 'vitest';
import { FACE_PIXELS, FACE_SIZE } from '../src/core/face-geometry.js';
import { hiddenRows, occlude, parseOcclusion } from '../src/core/occlusion.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { DATA_DIR } from './helpers/data.js';

const face = () => {
  const split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', { cacheDir: null });
  return split.pixels.slice(0, 2 * FACE_PIXELS);
};

describe('occlusion (shared by training and the browser)', () => {
  it('lower: rows 0-23 of every face are 0, rows 24-47 untouched', () => {
    const original = face();
    const out = occlude(original.slice(), 'lower');
    for (let f = 0; f < 2; f++) {
      for (let y = 0; y < FACE_SIZE; y++) {
        for (let x = 0; x < FACE_SIZE; x++) {
          const i = f * FACE_PIXELS + y * FACE_SIZE + x;
          expect(out[i]).toBe(y < 24 ? 0 : original[i]);
        }
      }
    }
  });

  it('upper hides rows 24-47; none changes nothing', () => {
    const original = face();
    const upper = occlude(original.slice(), 'upper');
    expect(Array.from(upper.subarray(0, 24 * FACE_SIZE))).toEqual(Array.from(original.subarray(0, 24 * FACE_SIZE)));
    expect(upper.subarray(24 * FACE_SIZE, FACE_PIXELS).every((v) => v === 0)).toBe(true);
    expect(Array.from(occlude(original.slice(), 'none'))).toEqual(Array.from(original));
    expect(hiddenRows('lower')).toEqual([0, 24]);
  });

  it('works on float arrays and interleaved channels, and rejects partial faces', () => {
    const rgba = new Float32Array(FACE_PIXELS * 4).fill(0.5);
    occlude(rgba, 'lower', 4);
    expect(rgba[24 * FACE_SIZE * 4 - 1]).toBe(0);
    expect(rgba[24 * FACE_SIZE * 4]).toBe(0.5);
    expect(() => occlude(new Float32Array(100), 'lower')).toThrow(/not a whole number/);
    expect(() => parseOcclusion('eyes')).toThrow(/unknown occlusion/);
  });
});
