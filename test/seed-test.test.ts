/** The seed-paired sign-flip test and its bootstrap interval, on cases worked out by hand. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../tools/data/random.js';
import { exactBinomialP, mcnemarFromCounts } from '../tools/eval/mcnemar.js';
import { bootstrapInterval, imageScores, SeedTestError, seedPairedTest, signFlipP } from '../tools/eval/seed-test.js';

/** Scores of b images only the stage gets right and c only the baseline does, each worth `weight`. */
const scores = (b: number, c: number, weight = 1) => [...Array<number>(b).fill(weight), ...Array<number>(c).fill(-weight)];

describe('exact sign-flip p-value', () => {
  it('m = [2, 1, -1]: T = 2; of the 8 sign patterns (4, 2, 2, 0, 0, -2, -2, -4) six have |T| >= 2, p = 0.75', () => {
    expect(signFlipP([2, 1, -1])).toBeCloseTo(0.75, 12);
  });

  it('m = [2, 2, 1]: T = 5; only (+,+,+) and (-,-,-) reach |T| = 5, p = 2/8', () => {
    expect(signFlipP([2, 2, 1, 0, 0])).toBeCloseTo(0.25, 12);
  });

  it('with one seed it is McNemar\'s exact test: b = 0, c = 5 gives 0.0625; b = 1, c = 6 gives 0.125', () => {
    expect(signFlipP(scores(0, 5))).toBeCloseTo(0.0625, 12);
    expect(signFlipP(scores(1, 6))).toBeCloseTo(0.125, 12);
    for (const [b, c] of [[2, 10], [7, 18], [40, 61], [111, 111]]) expect(signFlipP(scores(b, c))).toBeCloseTo(exactBinomialP(b, c), 12);
  });

  it('no difference at all: p = 1', () => {
    expect(signFlipP([0, 0, 0])).toBe(1);
    expect(signFlipP([1, -1, 2, -2])).toBe(1);
    expect(signFlipP([])).toBe(1);
  });

  it('refuses scores that are not whole numbers', () => {
    expect(() => signFlipP([0.5])).toThrow(SeedTestError);
    expect(() => signFlipP([Number.NaN])).toThrow(/whole numbers, got NaN/);
  });
});

describe('seed-paired test on predictions', () => {
  const labels = [0, 1, 2, 3, 4, 5];

  it('identical models in every seed: mean difference 0, CI [0, 0], p = 1', () => {
    const a = [0, 1, 0, 3, 0, 5];
    const r = seedPairedTest([{ stage: a, baseline: a }, { stage: [0, 0, 2, 3, 4, 0], baseline: [0, 0, 2, 3, 4, 0] }], labels);
    expect(r).toMatchObject({ seeds: 2, images: 6, meanDifference: 0, ci: [0, 0], p: 1, informativeImages: 0 });
  });

  it('sums each image over the seeds: the seeds of one face are one unit', () => {
    // Seed 1: the stage alone is right on images 0 and 1, the baseline alone on 2.
    // Seed 2: the stage alone is right on image 0, the baseline alone on 3. m = [2, 1, -1, -1, 0, 0].
    const seeds = [
      { stage: [0, 1, 9, 9, 9, 9], baseline: [9, 9, 2, 9, 9, 9] },
      { stage: [0, 9, 9, 9, 4, 5], baseline: [9, 9, 9, 3, 4, 5] },
    ];
    expect(Array.from(imageScores(seeds, labels))).toEqual([2, 1, -1, -1, 0, 0]);
    const r = seedPairedTest(seeds, labels);
    // Accuracies: seed 1 stage 2/6, baseline 1/6; seed 2 stage 3/6, baseline 3/6: mean difference (1 + 0) / 12.
    expect(r.meanDifference).toBeCloseTo(1 / 12, 12);
    expect(r.informativeImages).toBe(4);
    // T = 1, and ±2 ±1 ±1 ±1 is odd whatever the signs, so |T| >= 1 always: p = 1.
    expect(r.p).toBe(1);
  });

  it('a stage right on every image its baseline gets wrong: p tiny, CI above 0', () => {
    // 50 images, the baseline wrong on 20 of them, the stage right on all: m = 1 on 20 images, p = 2 / 2^20.
    const truth = Array.from({ length: 50 }, (_, i) => i % 8);
    const baseline = truth.map((l, i) => (i < 20 ? (l + 1) % 8 : l));
    const r = seedPairedTest([{ stage: truth, baseline }], truth);
    expect(r.meanDifference).toBeCloseTo(0.4, 12);
    expect(r.p).toBeCloseTo(2 / 2 ** 20, 15);
    // sd of the mean = sqrt(0.4 * 0.6 / 50) = 0.069, so the interval is about 0.4 ± 0.14.
    expect(r.ci[0]).toBeGreaterThan(0.2);
    expect(r.ci[0]).toBeLessThan(0.4);
    expect(r.ci[1]).toBeGreaterThan(0.4);
    expect(r.ci[1]).toBeLessThan(0.6);
  });

  it('a seed copied twice tells nothing new: p stays that of one seed, where summed McNemar counts halve it', () => {
    // b = 14, c = 4 on one seed: exact p = 2 (1 + 18 + 153 + 816 + 3060) / 2^18 = 8096 / 262144.
    const truth = Array.from({ length: 40 }, (_, i) => i % 8);
    const wrong = (l: number) => (l + 1) % 8;
    const stage = truth.map((l, i) => (i >= 14 && i < 18 ? wrong(l) : l));
    const baseline = truth.map((l, i) => (i < 14 ? wrong(l) : l));
    const one = seedPairedTest([{ stage, baseline }], truth);
    const twice = seedPairedTest([{ stage, baseline }, { stage, baseline }], truth);
    expect(one.p).toBeCloseTo(8096 / 262144, 12);
    expect(twice.p).toBeCloseTo(one.p, 12);
    expect(twice.meanDifference).toBeCloseTo(one.meanDifference, 12);
    expect(mcnemarFromCounts(28, 8).pExact).toBeLessThan(one.p / 10);
  });

  it('holds its level when seeds are correlated, where pooled McNemar counts do not', () => {
    // 400 experiments under the null hypothesis: each of 600 faces is discordant with probability
    // 0.2, the winner a fair coin, and seeds 2 and 3 repeat seed 1 on 80% of the faces (hard faces
    // stay hard). A valid test rejects about 5% of them at p < 0.05 (sampling error ~1%); summing
    // the three seeds' counts as independent rejects about 20%.
    const random = seededRandom(7);
    let seedTest = 0, pooled = 0;
    const experiments = 400;
    for (let e = 0; e < experiments; e++) {
      const draw = () => (random() < 0.2 ? (random() < 0.5 ? 1 : -1) : 0);
      const first = Array.from({ length: 600 }, draw);
      const seeds = [first, first.map((d) => (random() < 0.8 ? d : draw())), first.map((d) => (random() < 0.8 ? d : draw()))];
      if (signFlipP(first.map((_, i) => seeds[0][i] + seeds[1][i] + seeds[2][i])) < 0.05) seedTest++;
      const count = (v: number) => seeds.reduce((a, s) => a + s.filter((d) => d === v).length, 0);
      if (mcnemarFromCounts(count(1), count(-1)).p < 0.05) pooled++;
    }
    expect(seedTest / experiments).toBeLessThan(0.08);
    expect(pooled / experiments).toBeGreaterThan(0.12);
  });

  it('refuses seeds scored on other images, and no seeds or no images', () => {
    expect(() => seedPairedTest([{ stage: [0, 1], baseline: [0] }], [0, 1])).toThrow(/seed 1: 2 and 1 predictions for 2 labels/);
    expect(() => seedPairedTest([], [0, 1])).toThrow(/at least one seed/);
    expect(() => seedPairedTest([{ stage: [], baseline: [] }], [])).toThrow(/at least one image/);
  });
});

describe('bootstrap interval', () => {
  it('is the same for the same seed, and depends on the seed', () => {
    const m = [...scores(30, 20), ...Array<number>(150).fill(0)];
    expect(bootstrapInterval(m, 1, 2000, 5)).toEqual(bootstrapInterval(m, 1, 2000, 5));
    expect(bootstrapInterval(m, 1, 2000, 5)).not.toEqual(bootstrapInterval(m, 1, 2000, 6));
  });

  it('covers the mean and scales with the number of seeds', () => {
    const m = [...scores(30, 20, 2), ...Array<number>(150).fill(0)];
    const [lo, hi] = bootstrapInterval(m, 2);
    expect(lo).toBeLessThan(10 / 200);
    expect(hi).toBeGreaterThan(10 / 200);
    const [lo1, hi1] = bootstrapInterval(m, 1);
    expect(lo1).toBeCloseTo(2 * lo, 12);
    expect(hi1).toBeCloseTo(2 * hi, 12);
  });

  it('refuses too few resamples for 2.5% tails', () => {
    expect(() => bootstrapInterval([1, 0], 1, 10)).toThrow(/resamples must be a whole number >= 40/);
  });
});
