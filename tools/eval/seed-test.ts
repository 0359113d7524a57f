/**
 * Is a stage better than its baseline over several seeds, every model scored on the same images?
 *
 * For image i and seed s, d(s, i) = (stage of seed s right on i) − (baseline of seed s right on i),
 * which is −1, 0 or 1. An image's score is its sum over the S seeds, m(i) = Σ_s d(s, i), a whole
 * number from −S to S, and the mean difference in accuracy is Σ_i m(i) / (S · N).
 *
 * p: an exact paired permutation (sign-flip) test with the image as the unit. Under the null
 * hypothesis that on each image the stage and the baseline are exchangeable (swapping the two, in
 * every seed at once, changes nothing), each m(i) is as likely as −m(i), independently of the
 * other images. So T = Σ m(i) is distributed as Σ ε(i) |m(i)| with fair random signs ε(i). That
 * distribution is a convolution of one binomial per value of |m|, computed exactly: p needs no
 * random draws. With one seed this is McNemar's exact test.
 *
 * Why the image and not the (seed, image) pair: a face that one seed's stage gets wrong is likely
 * wrong for the other seeds too, so the seeds' discordant pairs are correlated. Summing them as
 * independent fair coins (the McNemar counts pooled over seeds) makes p too small; here such a face
 * counts once, with m = ±S.
 *
 * 95% CI: percentile bootstrap over images (faces drawn with replacement, each face keeping all its
 * seeds), from a fixed seed so that a report prints the same interval every time.
 *
 * Scope: the test takes these trained models as given and the images as the sample. It says whether
 * the stage beats the baseline on faces like these, averaged over these seeds; whether another
 * seed would do as well is what the spread of the per-seed differences shows. Pure functions.
 */
import { seededRandom } from '../data/random.js';
import { logChoose } from './mcnemar.js';

export const BOOTSTRAP_RESAMPLES = 10_000;
export const BOOTSTRAP_SEED = 1;

export interface SeedPairedResult {
  seeds: number;
  images: number;
  /** Mean over seeds of (stage accuracy − baseline accuracy), as a fraction. */
  meanDifference: number;
  /** 95% percentile-bootstrap interval of meanDifference, as fractions. */
  ci: [number, number];
  /** Two-sided exact sign-flip p-value. */
  p: number;
  /** Images whose score m is not 0: the only ones that carry information about the difference. */
  informativeImages: number;
  resamples: number;
  bootstrapSeed: number;
}

export class SeedTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedTestError';
  }
}

/** One seed's pair of models: their predicted classes on the shared images. */
export interface SeedPair {
  stage: ArrayLike<number>;
  baseline: ArrayLike<number>;
}

/** m(i) for every image: the number of seeds where only the stage is right minus those where only the baseline is. */
export function imageScores(seeds: SeedPair[], labels: ArrayLike<number>): Int32Array {
  if (seeds.length === 0) throw new SeedTestError('the seed-paired test needs at least one seed');
  const m = new Int32Array(labels.length);
  for (const [s, { stage, baseline }] of seeds.entries()) {
    if (stage.length !== labels.length || baseline.length !== labels.length) {
      throw new SeedTestError(`seed ${s + 1}: ${stage.length} and ${baseline.length} predictions for ${labels.length} labels; every model must be scored on the same images`);
    }
    for (let i = 0; i < labels.length; i++) m[i] += Number(stage[i] === labels[i]) - Number(baseline[i] === labels[i]);
  }
  return m;
}

/**
 * Exact two-sided sign-flip p-value of T = Σ scores: P(|Σ ε(i) |m(i)|| ≥ |T|) with fair signs ε.
 * Scores must be whole numbers. With n_k images of |m| = k, T = Σ_k k (2 X_k − n_k), X_k ~ Binomial(n_k, 1/2).
 */
export function signFlipP(scores: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  let observed = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isInteger(v)) throw new SeedTestError(`image scores must be whole numbers, got ${v}`);
    observed += v;
    if (v !== 0) counts.set(Math.abs(v), (counts.get(Math.abs(v)) ?? 0) + 1);
  }
  if (observed === 0) return 1;
  const reach = [...counts].reduce((a, [k, n]) => a + k * n, 0);
  // dist[t + reach] = P(T = t); each binomial term is built in logs so that large n never overflows.
  let dist = new Float64Array(2 * reach + 1);
  dist[reach] = 1;
  for (const [k, n] of counts) {
    const next = new Float64Array(dist.length);
    const pmf = Array.from({ length: n + 1 }, (_, j) => Math.exp(logChoose(n, j) - n * Math.LN2));
    for (let t = 0; t < dist.length; t++) {
      if (dist[t] === 0) continue;
      for (let j = 0; j <= n; j++) if (pmf[j] > 0) next[t + k * (2 * j - n)] += dist[t] * pmf[j];
    }
    dist = next;
  }
  let p = 0;
  for (let t = 0; t < dist.length; t++) if (Math.abs(t - reach) >= Math.abs(observed)) p += dist[t];
  return Math.min(1, p);
}

/**
 * 95% percentile-bootstrap interval of Σ scores / (divisor · N): N images drawn with replacement
 * `resamples` times from a PRNG started at `seed`.
 */
export function bootstrapInterval(scores: ArrayLike<number>, divisor: number, resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): [number, number] {
  const n = scores.length;
  if (n === 0) throw new SeedTestError('a bootstrap interval needs at least one image');
  if (!Number.isInteger(resamples) || resamples < 40) throw new SeedTestError(`resamples must be a whole number >= 40 (enough for 2.5% tails), got ${resamples}`);
  const random = seededRandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += scores[Math.floor(random() * n)];
    means[r] = sum / (divisor * n);
  }
  means.sort();
  return [means[Math.floor(0.025 * resamples)], means[Math.ceil(0.975 * resamples) - 1]];
}

export interface SeedTestOptions {
  resamples?: number;
  bootstrapSeed?: number;
}

/** The test of a stage against its own-seed baseline over every seed, on the same labelled images. */
export function seedPairedTest(seeds: SeedPair[], labels: ArrayLike<number>, options: SeedTestOptions = {}): SeedPairedResult {
  if (labels.length === 0) throw new SeedTestError('the seed-paired test needs at least one image');
  const scores = imageScores(seeds, labels);
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const bootstrapSeed = options.bootstrapSeed ?? BOOTSTRAP_SEED;
  const total = scores.reduce((a, v) => a + v, 0);
  return {
    seeds: seeds.length,
    images: labels.length,
    meanDifference: total / (seeds.length * labels.length),
    ci: bootstrapInterval(scores, seeds.length, resamples, bootstrapSeed),
    p: signFlipP(scores),
    informativeImages: scores.reduce((a, v) => a + Number(v !== 0), 0),
    resamples,
    bootstrapSeed,
  };
}
