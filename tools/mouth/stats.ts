/** Small statistics for judging the teacher and scoring the mouth head. NaN entries are skipped. */

/** Pearson's r over the pairs where both values are finite; NaN when fewer than 2 or no variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0; let sa = 0; let sb = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) { n++; sa += a[i]; sb += b[i]; }
  if (n < 2) return NaN;
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0; let va = 0; let vb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) continue;
    const da = a[i] - ma;
    const db = b[i] - mb;
    cov += da * db; va += da * da; vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : NaN;
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative
 * (ties count half), i.e. the Mann-Whitney U statistic over n+ · n-. NaN without both groups.
 */
export function auc(positives: number[], negatives: number[]): number {
  const pos = positives.filter(Number.isFinite);
  const neg = negatives.filter(Number.isFinite);
  if (pos.length === 0 || neg.length === 0) return NaN;
  const all = [...pos.map((v) => ({ v, p: 1 })), ...neg.map((v) => ({ v, p: 0 }))].sort((x, y) => x.v - y.v);
  // Rank sum of the positives, ties given their average rank.
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].p) rankSum += rank;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/** Value at quantile q (0..1) of the finite values, linear between order statistics. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}
