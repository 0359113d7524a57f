/**
 * The FER+ folder loader on a committed synthetic fixture (test/fixtures/ferplus-mini): unit tier,
 * no dataset needed. Each synthN.png holds the grey ramp (5x + 3y + 40N) mod 256, so every decoded
 * pixel can be checked; the label rows cover each protocol outcome and each skip reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS, FACE_SIZE } from '../src/core/face-geometry.js';
import { EXPRESSIONS } from '../src/core/labels.js';
import { availableSplits, DataError, loadRawSplit, loadSplit } from '../tools/data/ferplus.js';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/ferplus-mini');
const ramp = (n: number, x: number, y: number) => (x * 5 + y * 3 + n * 40) % 256;
const cacheDir = mkdtempSync(join(tmpdir(), 'halfface-fixture-cache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('FER+ loader on the synthetic fixture', () => {
  it('finds only the Valid split', () => {
    expect(availableSplits(FIXTURE)).toEqual(['FER2013Valid']);
    expect(() => loadRawSplit(FIXTURE, 'FER2013Train', { cacheDir: null })).toThrow(/split FER2013Train not found .*present: FER2013Valid/);
    expect(() => availableSplits(join(FIXTURE, 'nowhere'))).toThrow(DataError);
  });

  it('decodes every pixel, keeps the votes, and says why it skipped rows', () => {
    const raw = loadRawSplit(FIXTURE, 'FER2013Valid', { cacheDir: null });
    expect(raw.names).toEqual(['synth0.png', 'synth1.png', 'synth2.png', 'synth3.png', 'synth4.png', 'synth5.png']);
    expect(raw.pixels.length).toBe(6 * FACE_PIXELS);
    raw.names.forEach((_, n) => {
      for (let y = 0; y < FACE_SIZE; y++) for (let x = 0; x < FACE_SIZE; x++) {
        if (raw.pixels[n * FACE_PIXELS + y * FACE_SIZE + x] !== ramp(n, x, y)) throw new Error(`image ${n} pixel (${x}, ${y}) decoded wrong`);
      }
    });
    expect(Array.from(raw.votes.subarray(10, 20))).toEqual([0, 7, 1, 0, 0, 0, 0, 0, 2, 0]);
    expect(raw.skipped.map((s) => s.row)).toEqual([7, 8]);
    expect(raw.skipped[0].reason).toMatch(/missing\.png does not exist/);
    expect(raw.skipped[1].reason).toMatch(/image is 40x40, expected 48x48/);
  });

  it('applies the majority protocol: outlier votes removed, not-a-face and ties dropped', () => {
    const split = loadSplit(FIXTURE, 'FER2013Valid', 'majority', { cacheDir: null });
    expect(split.names).toEqual(['synth0.png', 'synth1.png', 'synth2.png', 'synth4.png']);
    expect(Array.from(split.labels, (l) => EXPRESSIONS[l])).toEqual(['neutral', 'happiness', 'sadness', 'contempt']);
    expect(split.dropped).toBe(2);
    expect(Array.from(split.pixels.subarray(3 * FACE_PIXELS, 3 * FACE_PIXELS + 3))).toEqual([ramp(4, 0, 0), ramp(4, 1, 0), ramp(4, 2, 0)]);
  });

  it('probability mode keeps the cleaned vote distribution', () => {
    const split = loadSplit(FIXTURE, 'FER2013Valid', 'probability', { cacheDir: null });
    const sadness = split.names.indexOf('synth2.png');
    expect(Array.from(split.targets.subarray(sadness * 8, sadness * 8 + 8))).toEqual(Array.from(Float32Array.of(0, 0, 0, 0.6, 0.4, 0, 0, 0)));
  });

  it('a second load comes from the decoded cache, identical', () => {
    const logs: string[] = [];
    const first = loadRawSplit(FIXTURE, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    const second = loadRawSplit(FIXTURE, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    expect(logs).toEqual([expect.stringMatching(/decoded 6 images, skipped 2/), expect.stringMatching(/6 images from cache/)]);
    expect(second.names).toEqual(first.names);
    expect(Buffer.from(second.pixels).equals(Buffer.from(first.pixels))).toBe(true);
    expect(Buffer.from(second.votes).equals(Buffer.from(first.votes))).toBe(true);
  });
});
