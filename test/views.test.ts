/** Fixed augmented views (tools/data/views.ts) on the committed synthetic FER+ fixture. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { DEFAULT_AUGMENT, STRONG_AUGMENT } from '../tools/data/augment.js';
import { makeBatch } from '../tools/data/batches.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { seededRandom } from '../tools/data/random.js';
import { makeViewBatch, viewAt, viewRandom } from '../tools/data/views.js';

const split = loadSplit(resolve(import.meta.dirname, 'fixtures/ferplus-mini'), 'FER2013Valid', 'majority', { cacheDir: null });
const row = (faces: Float32Array, i: number) => faces.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS);

describe('fixed views', () => {
  it('each (face, view, seed) has its own stream, the same whoever asks', () => {
    const first = (face: number, view: number, seed: number) => viewRandom(face, view, seed)();
    expect(first(3, 1, 7)).toBe(first(3, 1, 7));
    const streams = new Set([first(3, 1, 7), first(3, 2, 7), first(4, 1, 7), first(3, 1, 8), first(1, 3, 7), first(0, 0, 0)]);
    expect(streams.size).toBe(6);
  });

  it('epoch e trains face i on view (e + i) mod K: every view once in K epochs', () => {
    expect([0, 1, 2, 3].map((e) => viewAt(e, 5, 4)).sort()).toEqual([0, 1, 2, 3]);
    expect(viewAt(0, 5, 4)).toBe(1);
  });

  it('a view is the same image in any batch, position or company', () => {
    const a = makeViewBatch(split, Int32Array.of(0, 2, 3), Int32Array.of(1, 0, 1), 'lower', STRONG_AUGMENT, 11);
    const b = makeViewBatch(split, Int32Array.of(3, 1, 0), Int32Array.of(1, 1, 1), 'lower', STRONG_AUGMENT, 11);
    expect(row(b.clean, 2)).toEqual(row(a.clean, 0));
    expect(row(b.clean, 0)).toEqual(row(a.clean, 2));
    expect(row(b.faces, 0)).toEqual(row(a.faces, 2));
    expect(Array.from(b.views!)).toEqual([1, 1, 1]);
    expect(Array.from(a.labels)).toEqual([split.labels[0], split.labels[2], split.labels[3]]);
    // another view or another seed is another image
    const other = makeViewBatch(split, Int32Array.of(0), Int32Array.of(0), 'lower', STRONG_AUGMENT, 11);
    expect(row(other.clean, 0)).not.toEqual(row(a.clean, 0));
    expect(row(makeViewBatch(split, Int32Array.of(0), Int32Array.of(1), 'lower', STRONG_AUGMENT, 12).clean, 0)).not.toEqual(row(a.clean, 0));
    // the occluded faces are the clean view with the lower-half mask: the bottom row is kept, the top blanked
    expect(row(a.faces, 0).at(-1)).toBe(row(a.clean, 0).at(-1));
    expect(row(a.faces, 0)[0]).not.toBe(row(a.clean, 0)[0]);
  });

  it('makeBatch (fresh augmentation) still draws one stream through the batch in row order', () => {
    const indices = Int32Array.of(1, 0);
    const batch = makeBatch(split, indices, 'none', DEFAULT_AUGMENT, seededRandom(5));
    const random = seededRandom(5);
    const first = makeBatch(split, indices.subarray(0, 1), 'none', DEFAULT_AUGMENT, random);
    const second = makeBatch(split, indices.subarray(1, 2), 'none', DEFAULT_AUGMENT, random);
    expect(row(batch.clean, 0)).toEqual(row(first.clean, 0));
    expect(row(batch.clean, 1)).toEqual(row(second.clean, 0));
  });
});
