/**
 * McNemar's test: do two classifiers, scored on the same images, differ in accuracy?
 * Only the discordant images carry information: b = A right and B wrong, c = A wrong and B right.
 * Under the null hypothesis each discordant image is a fair coin, so b ~ Binomial(b + c, 1/2).
 *
 * Rule used here (and stated in every report): the exact two-sided binomial p-value when
 * b + c < 25, where the chi-square approximation is poor; otherwise the chi-square statistic with
 * Edwards' continuity correction, (|b - c| - 1)^2 / (b + c), on 1 degree of freedom. The exact
 * p-value is always computed as well, for readers who prefer it. Pure functions.
 */

export const EXACT_BELOW = 25;

export interface McNemarResult {
  /** Images where A is right and B is wrong. */
  b: number;
  /** Images where A is wrong and B is right. */
  c: number;
  /** Images where both are right, and where both are wrong. */
  bothRight: number;
  bothWrong: number;
  n: number;
  method: 'exact' | 'chi-square';
  /** Continuity-corrected chi-square statistic (also given when the exact test decides). */
  statistic: number;
  /** The p-value of the method used. */
  p: number;
  /** Exact two-sided binomial p-value, whatever the method. */
  pExact: number;
}

export class McNemarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McNemarError';
  }
}

/** Natural log of n choose k, summed term by term: exact enough for any split size here. */
export function logChoose(n: number, k: number): number {
  const m = Math.min(k, n - k);
  let s = 0;
  for (let i = 1; i <= m; i++) s += Math.log((n - m + i) / i);
  return s;
}

/** Exact two-sided p-value: twice the smaller binomial tail, capped at 1. */
export function exactBinomialP(b: number, c: number): number {
  checkCount(b, 'b');
  checkCount(c, 'c');
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // Sum the tail P(X <= k) with terms scaled by the largest one, so no term underflows early.
  const logs: number[] = [];
  for (let i = 0; i <= k; i++) logs.push(logChoose(n, i) - n * Math.LN2);
  const top = Math.max(...logs);
  const tail = Math.exp(top) * logs.reduce((s, l) => s + Math.exp(l - top), 0);
  return Math.min(1, 2 * tail);
}

/**
 * Complementary error function, from the Chebyshev fit in Numerical Recipes (erfcc), whose
 * fractional error is below 1.2e-7 everywhere: ample for p-values.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Upper tail of the chi-square distribution with 1 degree of freedom: P(X > x) = erfc(sqrt(x / 2)). */
export function chiSquare1P(x: number): number {
  if (!(x >= 0)) throw new McNemarError(`chi-square statistic must be >= 0, got ${x}`);
  return erfc(Math.sqrt(x / 2));
}

export function continuityCorrectedStatistic(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 0;
  const d = Math.max(0, Math.abs(b - c) - 1);
  return (d * d) / n;
}

function checkCount(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0) throw new McNemarError(`${name} must be a whole number >= 0, got ${v}`);
}

/** The test from the discordant counts alone. */
export function mcnemarFromCounts(b: number, c: number, bothRight = 0, bothWrong = 0): McNemarResult {
  checkCount(b, 'b');
  checkCount(c, 'c');
  checkCount(bothRight, 'bothRight');
  checkCount(bothWrong, 'bothWrong');
  const statistic = continuityCorrectedStatistic(b, c);
  const pExact = exactBinomialP(b, c);
  const method = b + c < EXACT_BELOW ? 'exact' : 'chi-square';
  const p = method === 'exact' ? pExact : Math.min(1, chiSquare1P(statistic));
  return { b, c, bothRight, bothWrong, n: b + c + bothRight + bothWrong, method, statistic, p, pExact };
}

/** The test from two models' predicted classes and the true labels of the same images. */
export function mcnemar(predictedA: ArrayLike<number>, predictedB: ArrayLike<number>, labels: ArrayLike<number>): McNemarResult {
  if (predictedA.length !== labels.length || predictedB.length !== labels.length) {
    throw new McNemarError(
      `McNemar's test needs both models' predictions on the same images: got ${predictedA.length} and ${predictedB.length} predictions for ${labels.length} labels`,
    );
  }
  let b = 0, c = 0, bothRight = 0, bothWrong = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = predictedA[i] === labels[i];
    const r = predictedB[i] === labels[i];
    if (a && !r) b++;
    else if (!a && r) c++;
    else if (a) bothRight++;
    else bothWrong++;
  }
  return mcnemarFromCounts(b, c, bothRight, bothWrong);
}

/** p-values as papers print them: 3 significant digits, and "< 1e-4" below that. */
export function formatP(p: number): string {
  if (p < 1e-4) return '< 1e-4';
  if (p >= 0.1) return p.toFixed(3);
  return p.toPrecision(2);
}
