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
import { exactBinomialP, mcnemarFromCounts } from '../tools/eval/mcnemar.js';
import {
  buildComparison, comparisonTable, evaluateModels, limitSplit, nameModels, parseLimit, pickBaseline, poolReplicates, pooledTable,
  type Comparison, type ModelEvaluations,
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
  // Two seeds of a baseline and a kd stage, written as their comparisons would be: counts by hand.
  const replicate = (baseline: string, kd: string, accBase: number, accKd: number, b: number, c: number, bothRight: number, bothWrong: number): Comparison => ({
    split: 'FER2013Valid', occlusion: 'lower', labelMode: 'majority', n: b + c + bothRight + bothWrong, baseline,
    rows: [
      { name: baseline, model: baseline, accuracy: accBase, correct: 0, n: 100, delta: 0, mcnemar: null },
      { name: kd, model: kd, accuracy: accKd, correct: 0, n: 100, delta: accKd - accBase, mcnemar: mcnemarFromCounts(b, c, bothRight, bothWrong) },
    ],
  });
  const seed2 = replicate('baseline-s2', 'kd-s2', 0.7, 0.75, 10, 5, 60, 25);
  const seed3 = replicate('baseline-s3', 'kd-s3', 0.72, 0.7, 4, 6, 62, 28);

  it('sums the discordant images over the seeds and tests the sums', () => {
    const [kd] = poolReplicates([seed2, seed3]);
    expect(kd.name).toBe('kd-s2');
    expect(kd.mcnemar).toMatchObject({ b: 14, c: 11, bothRight: 122, bothWrong: 53, n: 200 });
    expect(kd.mcnemar.p).toBe(mcnemarFromCounts(14, 11).p);
    expect(kd.deltas[0]).toBeCloseTo(0.05, 12);
    expect(kd.deltas[1]).toBeCloseTo(-0.02, 12);
    expect(kd.meanDelta).toBeCloseTo(0.015, 12);
    expect(kd.meanAccuracy).toBeCloseTo(0.725, 12);
    const table = pooledTable([seed2, seed3], [kd]);
    expect(table).toContain('(baseline-s2, baseline-s3)');
    expect(table).toContain('| **baseline-s2** (baseline) | 71.00% | — |');
    expect(table).toContain('| kd-s2 | 72.50% | +5.00, −2.00 | +1.50 | 14 | 11 |');
  });

  it('refuses replicates that do not line up', () => {
    expect(() => poolReplicates([seed2])).toThrow(/at least 2 replicates/);
    const moved = { ...seed3, rows: [...seed3.rows].reverse() };
    expect(() => poolReplicates([seed2, moved])).toThrow(/baseline in another position/);
    expect(() => poolReplicates([seed2, { ...seed3, rows: seed3.rows.slice(0, 1) }])).toThrow(/has 1 models, the first 2/);
    expect(() => poolReplicates([seed2, { ...seed3, occlusion: 'none' }])).toThrow(/FER2013Valid\/none/);
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
    // The replicate swaps the two models, so its discordant counts are the first's reversed and
    // the pooled test sees b + c images either way: a stage that wins once and loses once evens out.
    const json = join(tmp, 'replicated.json');
    const { out, code, err } = cli(['--models', STUDENT_DIR, biasedDir, '--replicate', `${biasedDir},${STUDENT_DIR}`, '--limit', String(LIMIT), '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('--replicate 1, against student-happier (2):');
    expect(out).toContain('Pooled over 2 replicates');
    const forward = buildComparison(models, evaluated.reports, evaluated.split.labels, 0).rows[1].mcnemar!;
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written.replicates[0].rows[1].mcnemar).toMatchObject({ b: forward.c, c: forward.b });
    expect(written.pooled[0].mcnemar).toMatchObject({ b: forward.b + forward.c, c: forward.b + forward.c, p: 1 });
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
