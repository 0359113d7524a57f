/**
 * `npm run report` end to end on real models and real FER+ faces: the markdown, its tables, the
 * published numbers labelled as theirs, and SVG pictures that exist and parse.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { defaultConfig } from '../tools/train/config.js';
import { appendEpoch, writeConfig, writeOrigins, type EpochRecord } from '../tools/train/run-dir.js';
import { selectBackend } from '../tools/backend/select.js';
import { PUBLISHED, README_SECTION, readRun, replaceMarkedSection, runsTable } from '../tools/report/report.js';
import { DATA_DIR } from './helpers/data.js';
import { STUDENT_DIR, writeBiasedStudent } from './helpers/second-model.js';
import { findAll, hasClass, parseSvg } from './helpers/svg.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const biasedDir = join(tmp, 'student-happier');
// The same two "stages" on another "seed": the kd student as baseline, and it pushed toward happiness less.
const replicateDir = join(tmp, 'student-happier-2');
const teacherRun = join(tmp, 'runs', 'teacher');
const freshRun = join(tmp, 'runs', 'kd');
const out = join(tmp, 'reports', 'REPORT.md');
const readme = join(tmp, 'README.md');
const readmeText = `# Intro\n\n<!-- ${README_SECTION}:start -->\nan old, hand-copied table\n<!-- ${README_SECTION}:end -->\n\nText after.\n`;

function cli(args: string[]): { out: string; err: string; code: number } {
  try {
    const stdout = execFileSync('npx', ['tsx', 'tools/cli/report.ts', '--data', DATA_DIR, '--backend', 'wasm', '--threads', '1', ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { out: stdout, err: '', code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; status: number };
    return { out: x.stdout, err: x.stderr, code: x.status };
  }
}

const record = (epoch: number, validAccuracy: number, best: boolean): EpochRecord => ({
  epoch, trainLoss: 1.9 - epoch * 0.15, trainAccuracy: 0.3 + epoch * 0.05, validAccuracy, validLoss: 1.5 - epoch * 0.1,
  learningRate: 1e-3, imagesPerSecond: 40, seconds: 600, best, time: new Date(0).toISOString(),
});

beforeAll(async () => {
  await selectBackend('wasm', 1);
  await writeBiasedStudent(biasedDir, 1, 3);
  await writeBiasedStudent(replicateDir, 1, 2);
  // Run folders written with the trainer's own run-dir code: one with three epochs, one not started.
  writeConfig(teacherRun, defaultConfig('teacher', DATA_DIR));
  writeOrigins(teacherRun, [{ role: 'initial weights', dir: 'models/student-baseline', sha256: 'be1e7d4bbbb53a691fee' }]);
  appendEpoch(teacherRun, record(1, 0.61, true));
  appendEpoch(teacherRun, record(2, 0.66, true));
  appendEpoch(teacherRun, record(3, 0.65, false));
  writeConfig(freshRun, defaultConfig('kd', DATA_DIR));
});

describe('run folders', () => {
  it('reads config and epochs, and finds the best epoch', () => {
    const run = readRun(teacherRun);
    expect(run).toMatchObject({ name: 'teacher', stage: 'teacher', architecture: 'student', occlusion: 'none' });
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const table = runsTable([run, readRun(freshRun)]);
    expect(table).toContain('| teacher | teacher | student | none | initial weights: `models/student-baseline` (`be1e7d4bbbb5`) | 3 | 66.00% (epoch 2) | 30 min |');
    expect(table).toContain('| kd | kd | student | lower | scratch | 0 | no epoch yet | n/a |');
  });

  it('replaces exactly the marked section, and refuses text without one pair of markers', () => {
    expect(replaceMarkedSection(readmeText, README_SECTION, 'NEW')).toBe(`# Intro\n\n<!-- ${README_SECTION}:start -->\nNEW\n<!-- ${README_SECTION}:end -->\n\nText after.\n`);
    expect(() => replaceMarkedSection('# no markers\n', README_SECTION, 'x')).toThrow(/expected one "<!-- report-summary:start -->"/);
    const reversed = `<!-- ${README_SECTION}:end -->\n<!-- ${README_SECTION}:start -->\n`;
    expect(() => replaceMarkedSection(reversed, README_SECTION, 'x')).toThrow(/expected one/);
    expect(() => replaceMarkedSection(readmeText + readmeText, README_SECTION, 'x')).toThrow(/expected one/);
  });

  it('says clearly what is wrong with a folder that is not a run', () => {
    expect(() => readRun(join(tmp, 'nope'))).toThrow(/run folder not found/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    expect(() => readRun(empty)).toThrow(/is not a run folder: it has neither config.json nor metrics.jsonl/);
    const broken = join(tmp, 'broken');
    writeConfig(broken, defaultConfig('baseline', DATA_DIR));
    writeFileSync(join(broken, 'metrics.jsonl'), '{"epoch": 1}\n{oops\n');
    expect(() => readRun(broken)).toThrow(/metrics.jsonl has a line that is not JSON/);
  });
});

describe('npm run report', () => {
  let markdown = '';

  beforeAll(() => {
    writeFileSync(readme, readmeText);
    // What an earlier report left in the pictures folder: an old PNG picture and a file of someone else's.
    mkdirSync(join(dirname(out), 'REPORT-files'), { recursive: true });
    writeFileSync(join(dirname(out), 'REPORT-files', 'confusion-01-old-model.png'), 'old picture');
    writeFileSync(join(dirname(out), 'REPORT-files', 'notes.txt'), 'keep me');
    const r = cli(['--models', STUDENT_DIR, biasedDir, '--replicate', `models/student-kd,${replicateDir}`, '--runs', teacherRun, freshRun, '--limit', '100', '--out', out, '--readme', readme]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    markdown = readFileSync(out, 'utf8');
  });

  it('has the comparison table with McNemar against the baseline, on the stated images', () => {
    expect(markdown).toMatch(/\| \*\*student-baseline\*\* \(baseline\) \| \d+\.\d\d% \| — \|/);
    expect(markdown).toMatch(/\| student-happier \| \d+\.\d\d% \| [+−]\d+\.\d\d \| \d+ \| \d+ \| [<\d.e -]+ \| (exact binomial|χ²)/);
    expect(markdown).toContain('100 images of FER2013Valid, lower occlusion, majority labels');
    expect(markdown).toContain('Partial evaluation');
  });

  it('quotes the published numbers as THEIRS, on the FER+ test split, and says we report on FER2013Valid', () => {
    const theirs = markdown.split('\n').filter((l) => l.startsWith('|') && l.includes('THEIRS'));
    expect(theirs).toHaveLength(PUBLISHED.length);
    expect(theirs[0]).toContain('82.75%');
    expect(theirs[0]).toContain('lower half');
    expect(theirs[1]).toContain('84.99%');
    expect(theirs[1]).toContain('Barsoum');
    for (const l of theirs) expect(l).toContain('FER+ test split');
    expect(markdown).toMatch(/we report on \*\*FER2013Valid\*\*/);
    expect(markdown).toMatch(/\| ours \| student-baseline \| lower half \| FER2013Valid \(first 100 images only\) \|/);
  });

  it('has per-class recalls for every class and model', () => {
    for (const e of EXPRESSIONS) expect(markdown).toMatch(new RegExp(`\\| ${e} \\| \\d+ \\| (\\d+\\.\\d%|n/a) \\| (\\d+\\.\\d%|n/a) \\|`));
  });

  it('links SVG pictures that exist beside it, and removes the pictures of an earlier report', () => {
    const links = [...markdown.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links).toEqual([
      'REPORT-files/confusion-01-student-baseline.svg', 'REPORT-files/confusion-02-student-happier.svg', 'REPORT-files/training-curves.svg',
    ]);
    for (const link of links.slice(0, 2)) expect(findAll(parseSvg(readFileSync(resolve(dirname(out), link), 'utf8')), hasClass('cell'))).toHaveLength(64);
    const curves = parseSvg(readFileSync(resolve(dirname(out), links[2]), 'utf8'));
    expect(findAll(curves, hasClass('legend-entry'))).toHaveLength(2);
    expect(existsSync(join(dirname(out), 'REPORT-files', 'confusion-01-old-model.png'))).toBe(false);
    expect(readFileSync(join(dirname(out), 'REPORT-files', 'notes.txt'), 'utf8')).toBe('keep me');
    expect(markdown).toContain('| teacher | teacher | student | none | initial weights: `models/student-baseline` (`be1e7d4bbbb5`) | 3 | 66.00% (epoch 2) |');
    expect(markdown).toContain('| kd | kd | student | lower | scratch | 0 | no epoch yet |');
  });

  it('rewrites the README summary with the same numbers as the report, leaving the rest alone', () => {
    const text = readFileSync(readme, 'utf8');
    expect(text).not.toContain('hand-copied');
    expect(text.startsWith('# Intro\n')).toBe(true);
    expect(text.endsWith('\n\nText after.\n')).toBe(true);
    expect(text).toContain('100 images of FER2013Valid, lower occlusion, majority labels');
    const accuracies = (s: string, name: string) => s.match(new RegExp(`\\| (?:\\*\\*)?${name}(?:\\*\\*)?(?: \\(baseline\\))? \\| (?:\\*\\*)?(\\d+\\.\\d\\d%)`))?.[1];
    for (const name of ['student-baseline', 'student-happier']) {
      expect(accuracies(text, name), name).toBeDefined();
      expect(accuracies(text, name)).toBe(accuracies(markdown, name));
    }
    // The baseline's size and cost come from its export.json; the test's own model has none.
    const facts = JSON.parse(readFileSync(join(STUDENT_DIR, 'export.json'), 'utf8')) as { bytes: number; flops: number };
    const literal = (n: number, digits: number) => n.toFixed(digits).replace('.', '\\.');
    expect(text).toMatch(new RegExp(`\\| \\*\\*student-baseline\\*\\* \\(baseline\\) \\| \\*\\*\\d+\\.\\d\\d%\\*\\* \\| \\d+\\.\\d\\d% \\| — \\| — \\| ${literal(facts.bytes / 1e6, 2)} MB \\| ${literal(facts.flops / 1e6, 1)} \\|`));
    expect(text).toMatch(/\| student-happier \| \d+\.\d\d% \| \d+\.\d\d% \| [+−]\d+\.\d\d \| [<\d.e -]+ \| n\/a \| n\/a \|/);
  });

  it('tests each stage across the replicates, in the report and the README, from the same numbers', () => {
    expect(markdown).toContain('## Across seeds');
    const replicate = markdown.match(/Replicate 2, against its own baseline \(student-kd\):\n\n([\s\S]*?)\n\n/)?.[1] ?? '';
    const own = (table: string, name: string) => Number(table.match(new RegExp(`\\| (?:\\*\\*)?${name}(?:\\*\\*)? (?:\\(baseline\\) )?\\| (\\d+\\.\\d\\d)%`))?.[1]);
    const first = markdown.split('## Across seeds')[0];
    // The pooled row's mean is the mean of the stage's accuracy in each replicate, each against its own baseline.
    const [a1, a2] = [own(first, 'student-happier'), own(replicate, 'student-happier-2')];
    const [b1, b2] = [own(first, 'student-baseline'), own(replicate, 'student-kd')];
    for (const x of [a1, a2, b1, b2]) expect(x).toBeGreaterThan(0);
    const pooledRow = markdown.match(/\| student-happier \| (\d+\.\d\d)% \| ([+−]\d+\.\d\d), ([+−]\d+\.\d\d) \| ([+−]\d+\.\d\d) \| ([+−][\d.]+) to ([+−][\d.]+) \| (\d+) \| ([<\d.e -]+) \|/);
    expect(pooledRow, markdown).not.toBeNull();
    const points = (t: string) => Number(t.replace('−', '-'));
    expect(Number(pooledRow![1])).toBeCloseTo((a1 + a2) / 2, 1);
    expect(points(pooledRow![2])).toBeCloseTo(a1 - b1, 1);
    expect(points(pooledRow![3])).toBeCloseTo(a2 - b2, 1);
    expect(points(pooledRow![4])).toBeCloseTo((a1 - b1 + a2 - b2) / 2, 1);
    expect(points(pooledRow![5])).toBeLessThanOrEqual(points(pooledRow![4]));
    expect(points(pooledRow![6])).toBeGreaterThanOrEqual(points(pooledRow![4]));
    expect(markdown).toContain('sign-flip');
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain(pooledRow![0]);
  });

  it('rejects bad input before the slow part', () => {
    const plain = join(tmp, 'PLAIN.md');
    writeFileSync(plain, '# no markers here\n');
    expect(cli(['--models', STUDENT_DIR, '--out', out, '--readme', plain]).err).toMatch(/^error: .*PLAIN\.md: expected one "<!-- report-summary:start -->"/);
    expect(readFileSync(plain, 'utf8')).toBe('# no markers here\n');
    expect(cli(['--models', STUDENT_DIR, '--out', out, '--readme', join(tmp, 'nope.md')]).err).toMatch(/^error: --readme file not found/);
    expect(cli(['--models', STUDENT_DIR, '--out', join(tmp, 'x.txt')]).err).toMatch(/^error: --out must name a markdown file/);
    expect(cli(['--models', STUDENT_DIR, '--runs', join(tmp, 'missing-run'), '--out', out]).err).toMatch(/^error: run folder not found/);
  });
});
