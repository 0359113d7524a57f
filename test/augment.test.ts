import { describe, expect, it } from 'vitest';
import { FACE_PIXELS, FACE_SIZE } from '../src/core/face-geometry.js';
import { augmentFace, DEFAULT_AUGMENT, NO_AUGMENT, normaliseFace, STRONG_AUGMENT } from '../tools/data/augment.js';
import { makeBatch } from '../tools/data/batches.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { seededRandom } from '../tools/data/random.js';
import { DATA_DIR } from './helpers/data.js';

const split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', { cacheDir: null });
const indices = Int32Array.from({ length: 16 }, (_, i) => i);

describe('seeded augmentation', () => {
  it('the same seed gives the same batch, another seed another batch', () => {
    const a = makeBatch(split, indices, 'lower', DEFAULT_AUGMENT, seededRandom(42));
    const b = makeBatch(split, indices, 'lower', DEFAULT_AUGMENT, seededRandom(42));
    const c = makeBatch(split, indices, 'lower', DEFAULT_AUGMENT, seededRandom(43));
    expect(Array.from(a.faces)).toEqual(Array.from(b.faces));
    expect(Array.from(a.faces)).not.toEqual(Array.from(c.faces));
    expect(a.faces.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('occludes after augmenting, so the hidden rows stay black whatever the transform', () => {
    const batch = makeBatch(split, indices, 'lower', DEFAULT_AUGMENT, seededRandom(7));
    for (let f = 0; f < indices.length; f++) {
      expect(batch.faces.subarray(f * FACE_PIXELS, f * FACE_PIXELS + 24 * FACE_SIZE).every((v) => v === 0)).toBe(true);
      // the teacher's copy of the same augmented face is not occluded
      expect(batch.clean.subarray(f * FACE_PIXELS, f * FACE_PIXELS + 24 * FACE_SIZE).some((v) => v > 0)).toBe(true);
    }
  });

  it('with every transform off it is exactly the normalised face; a flip mirrors it', () => {
    const src = split.pixels.subarray(0, FACE_PIXELS);
    const plain = new Float32Array(FACE_PIXELS);
    normaliseFace(src, plain);
    const same = new Float32Array(FACE_PIXELS);
    augmentFace(src, same, 0, NO_AUGMENT, seededRandom(1));
    expect(Array.from(same)).toEqual(Array.from(plain));
    const flipped = new Float32Array(FACE_PIXELS);
    augmentFace(src, flipped, 0, { ...NO_AUGMENT, flip: true }, () => 0); // random() = 0 < 0.5: flip
    for (let y = 0; y < FACE_SIZE; y++) {
      for (let x = 0; x < FACE_SIZE; x++) {
        expect(flipped[y * FACE_SIZE + x]).toBeCloseTo(plain[y * FACE_SIZE + (FACE_SIZE - 1 - x)], 6);
      }
    }
  });

  it('random erasing replaces one rectangle of the face and leaves the rest as it was', () => {
    const src = split.pixels.subarray(0, FACE_PIXELS);
    const plain = new Float32Array(FACE_PIXELS);
    augmentFace(src, plain, 0, NO_AUGMENT, seededRandom(3));
    const erased = new Float32Array(FACE_PIXELS);
    augmentFace(src, erased, 0, { ...NO_AUGMENT, erasing: 1 }, seededRandom(3));
    const changed: [number, number][] = [];
    for (let i = 0; i < FACE_PIXELS; i++) if (erased[i] !== plain[i]) changed.push([Math.floor(i / FACE_SIZE), i % FACE_SIZE]);
    const rows = changed.map(([y]) => y);
    const cols = changed.map(([, x]) => x);
    const box = (Math.max(...rows) - Math.min(...rows) + 1) * (Math.max(...cols) - Math.min(...cols) + 1);
    // 2-25% of the face, all inside one box (noise may equal a pixel by chance, so <= box)
    expect(changed.length).toBeGreaterThan(0.015 * FACE_PIXELS);
    expect(box).toBeLessThanOrEqual(0.26 * FACE_PIXELS);
    expect(changed.length / box).toBeGreaterThan(0.95);
  });

  it('runs without erasing draw exactly the random stream they drew before it existed', () => {
    const withField = makeBatch(split, indices, 'lower', { ...DEFAULT_AUGMENT, erasing: 0 }, seededRandom(9));
    const { erasing: _unused, ...legacy } = { ...DEFAULT_AUGMENT, erasing: 0 };
    const without = makeBatch(split, indices, 'lower', legacy, seededRandom(9));
    expect(Array.from(withField.faces)).toEqual(Array.from(without.faces));
    const strong = makeBatch(split, indices, 'none', STRONG_AUGMENT, seededRandom(9));
    expect(strong.faces.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
