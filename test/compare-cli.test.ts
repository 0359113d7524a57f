/**
 * `npm run compare` on real models and real FER+ faces: every model scored on the same images,
 * accuracies and McNemar counts checked against independent counts from the predictions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { evaluateModelDir } from '../tools/eval/evaluate-model.js';
import { parseReplicate } from '../tools/cli/comparison-options.js';
import type { EvaluationReport } from '../tools/eval/evaluate-model.js';
import { exactBinomialP } from '../tools/eval/mcnemar.js';
import { computeMetrics } from '../tools/eval/metrics.js';
import {
  buildComparison, comparisonTable, evaluateModels, limitSplit, nameModels, parseLimit, pickBaseline, pooledNote, poolReplicates, pooledTable,
  signedPoints, type ModelEvaluations, type Replicate,
} from '../tools/report/compare.js';
import { DATA_DIR } from './helpers/data.js';
import { STUDENT_DIR, writeBiasedStudent } from './helpers/second-model.js';

const LIMIT = 120;
const HAPPINESS = 1;
const tmp = mkdtempSync(join(tmpdir(), 'halfface-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const biasedDir = join(tmp, 'student-happier');
const models = nameModels([STUDENT_DIR, biasedDir]);
let evaluated: ModelEvaluations;

function cli(args: string[]): { out: string; err: string; code: number } {
  try {
    const out = execFileSync('npx', ['tsx', 'tools/cli/compare.ts', '--data', DATA_DIR, '--backend', 'wasm', '--threads', '1', ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { out, err: '', code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; status: number };
    return { out: x.stdout, err: x.stderr, code: x.status };
  }
}

beforeAll(async () => {
  await selectBackend('wasm', 1);
  await writeBiasedStudent(biasedDir, HAPPINESS, 3);
  evaluated = await evaluateModels(models, { dataDir: DATA_DIR, split: 'FER2013Valid', occlusion: 'lower', limit: LIMIT });
});

describe('scoring several models on the same images', () => {
  it('names models by folder and scores the first N images of the split', () => {
    expect(models.map((m) => m.name)).toEqual(['student-baseline', 'student-happier']);
    const labels = loadSplit(DATA_DIR, 'FER2013Valid', 'majority').labels.subarray(0, LIMIT);
    expect(Array.from(evaluated.split.labels)).toEqual(Array.from(labels));
    for (const r of evaluated.reports) {
      expect(r.predictions).toHaveLength(LIMIT);
      const correct = r.predictions.filter((p, i) => p === labels[i]).length;
      expect(r.accuracy).toBeCloseTo(correct / LIMIT, 12);
      expect(r.n).toBe(LIMIT);
    }
  });

  it('gives the same predictions as `npm run eval` code on those images', async () => {
    const full = await evaluateModelDir(STUDENT_DIR, DATA_DIR, 'FER2013Valid', 'lower');
    expect(evaluated.reports[0].predictions).toEqual(full.predictions.slice(0, LIMIT));
  });

  it('the biased model really is a different model: it predicts happiness more often', () => {
    const count = (p: number[]) => p.filter((x) => x === HAPPINESS).length;
    expect(count(evaluated.reports[1].predictions)).toBeGreaterThan(count(evaluated.reports[0].predictions));
  });

  it('McNemar counts and the accuracy difference agree with a direct count', () => {
    const labels = evaluated.split.labels;
    const [base, other] = evaluated.reports;
    const c = buildComparison(models, evaluated.reports, labels, 0);
    let b = 0, cc = 0;
    for (let i = 0; i < LIMIT; i++) {
      const otherRight = other.predictions[i] === labels[i], baseRight = base.predictions[i] === labels[i];
      if (otherRight && !baseRight) b++;
      if (!otherRight && baseRight) cc++;
    }
    expect(b + cc).toBeGreaterThan(0);
    expect(c.rows[0].mcnemar).toBeNull();
    expect(c.rows[1].mcnemar).toMatchObject({ b, c: cc });
    expect(c.rows[1].delta).toBeCloseTo((b - cc) / LIMIT, 12);
    if (b + cc < 25) expect(c.rows[1].mcnemar!.p).toBe(exactBinomialP(b, cc));
    const table = comparisonTable(c);
    expect(table).toContain('| **student-baseline** (baseline) |');
    expect(table).toContain(`| ${b} | ${cc} |`);
  });

  it('refuses reports that were not scored on the same images', () => {
    const [a, b] = evaluated.reports;
    const shorter = { ...b, predictions: b.predictions.slice(1) };
    expect(() => buildComparison(models, [a, shorter], evaluated.split.labels, 0)).toThrow(/needs the same images/);
    const other = { ...b, occlusion: 'none' as const };
    expect(() => buildComparison(models, [a, other], evaluated.split.labels, 0)).toThrow(/FER2013Valid\/none/);
  });
});

describe('small pure parts', () => {
  it('names, baselines and limits', () => {
    expect(nameModels(['runs/kd/best', 'models/kd', 'models/kd']).map((m) => m.name)).toEqual(['runs/kd', 'models/kd', 'models/kd (2)']);
    const named = nameModels(['models/a', 'runs/b/best']);
    expect(named.map((m) => m.name)).toEqual(['a', 'b']);
    expect(pickBaseline(named, ['models/a', 'runs/b'], 'b')).toBe(1);
    expect(pickBaseline(named, ['models/a', 'runs/b'], 'runs/b')).toBe(1);
    expect(pickBaseline(named, ['models/a', 'runs/b'])).toBe(0);
    expect(() => pickBaseline(named, ['models/a', 'runs/b'], 'zzz')).toThrow(/baseline "zzz" is not one of the compared models \(a, b\)/);
    expect(parseLimit(undefined)).toBe(0);
    expect(parseLimit('40')).toBe(40);
    expect(() => parseLimit('-3')).toThrow(/--limit must be a whole number/);
    expect(() => parseLimit('ten')).toThrow(/--limit must be a whole number/);
    expect(limitSplit(evaluated.split, 10).labels).toHaveLength(10);
    expect(limitSplit(evaluated.split, 10 ** 6).labels).toHaveLength(LIMIT);
  });
});

describe('pooling seed replicates', () => {
  // Two seeds of a baseline and a kd stage on 8 images, right (1) or wrong (0) on each, by hand:
  // seed 2: baseline 1111 1100, kd 1111 0011 -> d = 0000 -1-1 +1+1 (accuracies 75%, 75%)
  // seed 3: baseline 1111 0000, kd 1111 0111 -> d = 0000  0+1 +1+1 (accuracies 50%, 87.5%)
  // Summed per image: m = 0000 -1 0 +2 +2, T = 3; of the 8 sign patterns of ±1 ±2 ±2
  // (5, 1, 1, -3, 3, -1, -1, -5) four reach |T| >= 3, so p = 0.5.
  const labels = [0, 1, 2, 3, 4, 5, 6, 7];
  const predict = (right: string) => labels.map((l, i) => (right[i] === '1' ? l : (l + 1) % 8));
  const replicate = (baseline: string, kd: string, rightBase: string, rightKd: string): Replicate => {
    const named = [{ name: baseline, dir: baseline }, { name: kd, dir: kd }];
    const reports = [rightBase, rightKd].map((right, i): EvaluationReport => {
      const predictions = predict(right);
      return { ...computeMetrics(predictions, labels), split: 'FER2013Valid', occlusion: 'lower', labelMode: 'majority', model: named[i].dir, predictions };
    });
    return { comparison: buildComparison(named, reports, labels, 0), reports };
  };
  const seed2 = replicate('baseline-s2', 'kd-s2', '11111100', '11110011');
  const seed3 = replicate('baseline-s3', 'kd-s3', '11110000', '11110111');

  it('tests each stage with the image as the unit, every image\'s seeds together', () => {
    const [kd] = poolReplicates([seed2, seed3], labels);
    expect(kd.name).toBe('kd-s2');
    expect(kd.deltas[0]).toBeCloseTo(0, 12);
    expect(kd.deltas[1]).toBeCloseTo(0.375, 12);
    expect(kd.meanDelta).toBeCloseTo(0.1875, 12);
    expect(kd.meanAccuracy).toBeCloseTo(0.8125, 12);
    expect(kd.test).toMatchObject({ seeds: 2, images: 8, informativeImages: 3 });
    expect(kd.test.meanDifference).toBeCloseTo(kd.meanDelta, 12);
    expect(kd.test.p).toBeCloseTo(0.5, 12);
    expect(kd.test.ci[0]).toBeLessThanOrEqual(kd.meanDelta);
    expect(kd.test.ci[1]).toBeGreaterThanOrEqual(kd.meanDelta);
    const table = pooledTable([seed2.comparison, seed3.comparison], [kd]);
    expect(table).toContain('(baseline-s2, baseline-s3)');
    expect(table).toContain('| **baseline-s2** (baseline) | 62.50% | — |');
    expect(table).toContain(`| kd-s2 | 81.25% | +0.00, +37.50 | +18.75 | ${signedPoints(kd.test.ci[0])} to ${signedPoints(kd.test.ci[1])} | 3 | 0.500 |`);
    expect(pooledNote([kd])).toMatch(/sign-flip .* over images.*10000 resamples, seed 1/);
  });

  it('refuses replicates that do not line up', () => {
    expect(() => poolReplicates([seed2], labels)).toThrow(/at least 2 replicates/);
    const moved = { ...seed3, comparison: { ...seed3.comparison, rows: [...seed3.comparison.rows].reverse() } };
    expect(() => poolReplicates([seed2, moved], labels)).toThrow(/baseline in another position/);
    const short = { ...seed3, comparison: { ...seed3.comparison, rows: seed3.comparison.rows.slice(0, 1) } };
    expect(() => poolReplicates([seed2, short], labels)).toThrow(/has 1 models, the first 2/);
    expect(() => poolReplicates([seed2, { ...seed3, comparison: { ...seed3.comparison, occlusion: 'none' } }], labels)).toThrow(/FER2013Valid\/none/);
    expect(() => poolReplicates([seed2, { ...seed3, reports: seed3.reports.slice(1) }], labels)).toThrow(/2 models but 1 reports/);
    expect(() => poolReplicates([seed2, seed3], labels.slice(1))).toThrow(/scored on 8 images, but 7 labels/);
  });

  it('reads --replicate as comma-separated folders, one list per flag', () => {
    expect(parseReplicate('runs/b2, runs/k2')).toEqual([['runs/b2', 'runs/k2']]);
    expect(parseReplicate('c,d', [['a', 'b']])).toEqual([['a', 'b'], ['c', 'd']]);
    expect(() => parseReplicate(' , ')).toThrow(/--replicate needs comma-separated model folders/);
  });
});

describe('npm run compare', () => {
  it('prints the table and writes JSON that matches the in-process comparison', () => {
    const json = join(tmp, 'compare.json');
    const { out, code, err } = cli(['--models', STUDENT_DIR, biasedDir, '--split', 'FER2013Valid', '--occlusion', 'lower', '--limit', String(LIMIT), '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/\| model \| accuracy \| Δ vs baseline/);
    expect(out).toMatch(/\| student-happier \| \d+\.\d\d% \| [+−]\d+\.\d\d \|/);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    const expected = buildComparison(models, evaluated.reports, evaluated.split.labels, 0);
    expect(written.comparison.rows.map((r: { accuracy: number }) => r.accuracy)).toEqual(expected.rows.map((r) => r.accuracy));
    expect(written.comparison.rows[1].mcnemar).toEqual(expected.rows[1].mcnemar);
    expect(written.labels).toEqual(Array.from(evaluated.split.labels));
    expect(written.models[1].predictions).toEqual(evaluated.reports[1].predictions);
  });

  it('--baseline swaps which model the others are tested against', () => {
    const json = join(tmp, 'swapped.json');
    const { code } = cli(['--models', STUDENT_DIR, biasedDir, '--baseline', 'student-happier', '--limit', String(LIMIT), '--json', json]);
    expect(code).toBe(0);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    const forward = buildComparison(models, evaluated.reports, evaluated.split.labels, 0).rows[1].mcnemar!;
    expect(written.comparison.baseline).toBe('student-happier');
    expect(written.comparison.rows[0].mcnemar).toMatchObject({ b: forward.c, c: forward.b });
  });

  it('--replicate scores another seed on the same images and pools the test', () => {
    // The replicate swaps the two models, so its discordant counts are the first's reversed: on
    // every image the two seeds cancel (score 0), so the pooled difference is 0, its interval
    // [0, 0] and p = 1.
    const json = join(tmp, 'replicated.json');
    const { out, code, err } = cli(['--models', STUDENT_DIR, biasedDir, '--replicate', `${biasedDir},${STUDENT_DIR}`, '--limit', String(LIMIT), '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('--replicate 1, against student-happier (2):');
    expect(out).toContain('Pooled over 2 replicates');
    expect(out).toContain('p is the exact two-sided sign-flip (paired permutation) test over images');
    const forward = buildComparison(models, evaluated.reports, evaluated.split.labels, 0).rows[1].mcnemar!;
    expect(forward.b + forward.c).toBeGreaterThan(0);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written.replicates[0].rows[1].mcnemar).toMatchObject({ b: forward.c, c: forward.b });
    expect(written.pooled[0].test).toMatchObject({ seeds: 2, images: LIMIT, meanDifference: 0, ci: [0, 0], p: 1, informativeImages: 0 });
    expect(written.pooled[0].meanDelta).toBeCloseTo(0, 12);
  });

  it('bad input gets a one-line error, not a stack trace', () => {
    expect(cli(['--models', STUDENT_DIR, biasedDir, '--replicate', STUDENT_DIR]).err).toMatch(/^error: --replicate 1 lists 1 models, --models 2/);
    const missing = cli(['--models', '/nonexistent/model']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: no model at \/nonexistent\/model/);
    expect(cli(['--models', STUDENT_DIR, '--baseline', 'teacher']).err).toMatch(/^error: baseline "teacher" is not one of the compared models/);
    expect(cli(['--models', STUDENT_DIR, '--split', 'FER2013Tset']).err).toMatch(/^error: unknown split "FER2013Tset"/);
    expect(cli(['--models', STUDENT_DIR, '--limit', 'x']).err).toMatch(/^error: --limit must be a whole number/);
    expect(cli(['--models', STUDENT_DIR, '--occlusion', 'left']).err).toMatch(/^error: .*left/);
  });
});
