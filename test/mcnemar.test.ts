/** McNemar's test against values worked out by hand (the arithmetic is in the comments). */
import { describe, expect, it } from 'vitest';
import {
  chiSquare1P, continuityCorrectedStatistic, erfc, exactBinomialP, formatP, mcnemar, mcnemarFromCounts, McNemarError,
} from '../tools/eval/mcnemar.js';

describe('exact two-sided binomial p-value', () => {
  it('b = 0, c = 5: 2 * (1/2)^5 = 0.0625', () => {
    expect(exactBinomialP(0, 5)).toBeCloseTo(0.0625, 12);
    expect(exactBinomialP(5, 0)).toBeCloseTo(0.0625, 12);
  });

  it('b = 1, c = 6: 2 * (C(7,0) + C(7,1)) / 2^7 = 2 * 8 / 128 = 0.125', () => {
    expect(exactBinomialP(1, 6)).toBeCloseTo(0.125, 12);
  });

  it('b = 2, c = 10: 2 * (1 + 12 + 66) / 4096 = 158 / 4096', () => {
    expect(exactBinomialP(2, 10)).toBeCloseTo(158 / 4096, 12);
  });

  it('b = 7, c = 18: 2 * (1 + 25 + 300 + 2300 + 12650 + 53130 + 177100 + 480700) / 2^25 = 1452412 / 33554432', () => {
    expect(exactBinomialP(7, 18)).toBeCloseTo(1452412 / 33554432, 12);
  });

  it('is capped at 1 when b = c (3, 3: 2 * 42/64 > 1), and is 1 with no discordant images', () => {
    expect(exactBinomialP(3, 3)).toBe(1);
    expect(exactBinomialP(0, 0)).toBe(1);
  });

  it('stays finite and tiny for large lopsided counts (no underflow to 0 or NaN)', () => {
    // 2 * 2^-2000 underflows a double, so the honest answer is 0; it must not be NaN.
    expect(exactBinomialP(0, 2000)).toBe(0);
    const p = exactBinomialP(400, 600);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-9);
  });
});

describe('chi-square with continuity correction', () => {
  it('erfc matches known values: erfc(0) = 1, erfc(1) = 0.157299207, erfc(-1) = 1.842700793', () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1)).toBeCloseTo(0.157299207, 6);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 6);
  });

  it('b = 7, c = 18: (|7 - 18| - 1)^2 / 25 = 100 / 25 = 4; P(chi2_1 > 4) = P(|Z| > 2) = 0.0455003', () => {
    expect(continuityCorrectedStatistic(7, 18)).toBe(4);
    const r = mcnemarFromCounts(7, 18);
    expect(r.method).toBe('chi-square'); // b + c = 25: the first count that leaves the exact test
    expect(r.statistic).toBe(4);
    expect(r.p).toBeCloseTo(0.0455003, 6);
    // The exact p of the same counts (hand sum above) is close but not equal: both are reported.
    expect(r.pExact).toBeCloseTo(1452412 / 33554432, 12);
  });

  it('b = 17, c = 32: (15 - 1)^2 / 49 = 196 / 49 = 4, the same p', () => {
    expect(mcnemarFromCounts(17, 32).statistic).toBe(4);
    expect(mcnemarFromCounts(17, 32).p).toBeCloseTo(0.0455003, 6);
  });

  it('b = 10, c = 39: (29 - 1)^2 / 49 = 784 / 49 = 16; P(|Z| > 4) = 6.334248e-5', () => {
    const r = mcnemarFromCounts(10, 39);
    expect(r.statistic).toBe(16);
    expect(r.p / 6.334248e-5).toBeCloseTo(1, 5);
  });

  it('the correction never makes the statistic negative: b = 12, c = 13 gives 0 and p = 1', () => {
    expect(continuityCorrectedStatistic(12, 13)).toBe(0);
    expect(mcnemarFromCounts(12, 13).p).toBeCloseTo(1, 6);
    expect(chiSquare1P(0)).toBeCloseTo(1, 6);
  });
});

describe('McNemar from predictions', () => {
  it('counts the four kinds of image and picks the exact test for few discordant images', () => {
    const labels = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1];
    const a = [0, 1, 2, 3, 4, 5, 0, 0, 1, 1]; // right on 0-5 and 9
    const b = [0, 1, 2, 0, 0, 0, 6, 0, 1, 2]; // right on 0-2 and 6
    // A right, B wrong: images 3, 4, 5, 9 -> b = 4. A wrong, B right: image 6 -> c = 1.
    // Both right: 0, 1, 2. Both wrong: 7, 8. Exact p = 2 * (1 + 5) / 32 = 0.375.
    const r = mcnemar(a, b, labels);
    expect(r).toMatchObject({ b: 4, c: 1, bothRight: 3, bothWrong: 2, n: 10, method: 'exact' });
    expect(r.p).toBeCloseTo(0.375, 12);
    // Swapping the models swaps b and c and keeps p.
    const s = mcnemar(b, a, labels);
    expect([s.b, s.c, s.p]).toEqual([1, 4, r.p]);
  });

  it('identical predictions: no discordant images, p = 1', () => {
    const r = mcnemar([1, 2, 3], [1, 2, 3], [1, 0, 3]);
    expect(r).toMatchObject({ b: 0, c: 0, p: 1 });
  });

  it('rejects predictions of different lengths and bad counts with a clear error', () => {
    expect(() => mcnemar([1, 2], [1], [1, 2])).toThrow(McNemarError);
    expect(() => mcnemar([1, 2], [1], [1, 2])).toThrow(/same images: got 2 and 1 predictions for 2 labels/);
    expect(() => mcnemarFromCounts(-1, 3)).toThrow(/b must be a whole number >= 0/);
    expect(() => mcnemarFromCounts(1.5, 3)).toThrow(/b must be a whole number/);
    expect(() => exactBinomialP(2, Number.NaN)).toThrow(/c must be a whole number/);
    expect(() => chiSquare1P(Number.NaN)).toThrow(/>= 0/);
  });

  it('formats p-values the way a table prints them', () => {
    expect(formatP(1)).toBe('1.000');
    expect(formatP(0.0625)).toBe('0.063');
    expect(formatP(0.0455003)).toBe('0.046');
    expect(formatP(6.3e-5)).toBe('< 1e-4');
  });
});
