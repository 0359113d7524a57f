/**
 * The report pictures, read back as SVG structure: the confusion heat map of the real student
 * model on real FER+ faces, and training curves (axes, one polyline per run, legend).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import type { EvaluationReport } from '../tools/eval/evaluate-model.js';
import { computeMetrics } from '../tools/eval/metrics.js';
import { confusionSvg, curvesSvg, heatColor, lightness, niceTicks, RUN_COLORS, writeConfusionSvg, writeCurvesSvg } from '../tools/report/charts.js';
import { evaluateModels } from '../tools/report/compare.js';
import type { EpochRecord } from '../tools/train/run-dir.js';
import { DATA_DIR } from './helpers/data.js';
import { byTag, findAll, hasClass, parseSvg, texts, type SvgNode } from './helpers/svg.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-charts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const one = (node: SvgNode, cls: string) => {
  const found = findAll(node, hasClass(cls));
  expect(found, `exactly one .${cls}`).toHaveLength(1);
  return found[0];
};

describe('confusion matrix picture', () => {
  let report: EvaluationReport;

  beforeAll(async () => {
    await selectBackend('wasm', 1);
    const { reports } = await evaluateModels([{ name: 'student-baseline', dir: 'models/student-baseline' }], {
      dataDir: DATA_DIR, split: 'FER2013Valid', occlusion: 'lower', limit: 300,
    });
    report = reports[0];
  });

  it('has a cell per (true, predicted) pair, coloured by its share of the true-class row, with its count written in it', () => {
    const svg = parseSvg(confusionSvg(report, 'student-baseline'));
    const cells = findAll(svg, hasClass('cell'));
    expect(cells).toHaveLength(EXPRESSIONS.length ** 2);
    const rowTotals = report.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    for (const cell of cells) {
      const t = EXPRESSIONS.indexOf(cell.attrs['data-true'] as never), p = EXPRESSIONS.indexOf(cell.attrs['data-predicted'] as never);
      expect(Number(cell.attrs['data-count'])).toBe(report.confusion[t][p]);
      expect(cell.attrs.fill, `cell ${t},${p}`).toBe(rowTotals[t] ? heatColor(report.confusion[t][p] / rowTotals[t]) : '#f2f2f2');
    }
    // The counts written in the cells of classes with images, row by row.
    const written = findAll(svg, hasClass('count')).map((c) => Number(c.text));
    expect(written).toEqual(report.confusion.filter((_, t) => rowTotals[t] > 0).flat());
    expect(findAll(one(svg, 'diagonal'), byTag('rect'))).toHaveLength(EXPRESSIONS.length);
  });

  it('labels both axes with the classes and the totals with each class\'s images', () => {
    const svg = parseSvg(confusionSvg(report, 'student-baseline'));
    const axes = findAll(svg, hasClass('axis'));
    expect(axes).toHaveLength(2);
    expect(texts(axes.find(hasClass('x'))!)).toEqual([...EXPRESSIONS, 'predicted class']);
    expect(texts(axes.find(hasClass('y'))!)).toEqual([...EXPRESSIONS, 'true class']);
    const totals = report.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    expect(texts(one(svg, 'totals'))).toEqual(['images', ...totals.map((n) => (n ? String(n) : 'none'))]);
  });

  it('escapes the title, and the file holds the same document', () => {
    const svg = confusionSvg(report, 'a <b> & "c"');
    expect(texts(one(parseSvg(svg), 'title'))).toEqual(['a <b> & "c"']);
    const file = join(tmp, 'sub', 'confusion.svg');
    writeConfusionSvg(report, file, 'title');
    expect(readFileSync(file, 'utf8')).toBe(confusionSvg(report, 'title'));
  });

  it('refuses a malformed matrix', () => {
    expect(() => confusionSvg({ ...report, confusion: report.confusion.slice(1) }, 't')).toThrow(/must be 8x8/);
    const negative = { ...report, confusion: report.confusion.map((r, i) => (i === 0 ? [-1, ...r.slice(1)] : r)) };
    expect(() => confusionSvg(negative, 't')).toThrow(/whole numbers >= 0, got -1/);
  });

  it('gets darker as the share grows, so the diagonal of a decent model stands out', () => {
    for (let v = 0.1; v <= 1; v += 0.1) expect(lightness(heatColor(v))).toBeLessThan(lightness(heatColor(v - 0.1)));
    expect(heatColor(0)).toBe('#f7fbff');
    expect(heatColor(1)).toBe('#08306b');
  });

  it('greys out a class with no images instead of dividing by zero', () => {
    const m = computeMetrics([0, 1, 1, 1, 0], [0, 0, 1, 1, 2]);
    // Mean recall over the three classes with images (1/2, 2/2, 0/1), not over all eight.
    expect(m.meanRecall).toBeCloseTo(0.5, 10);
    const svg = parseSvg(confusionSvg({ ...m, split: 'x', occlusion: 'lower' }, 't'));
    const contempt = findAll(svg, (n) => n.attrs['data-true'] === 'contempt');
    expect(contempt.map((c) => c.attrs.fill)).toEqual(Array(8).fill('#f2f2f2'));
    expect(texts(one(svg, 'totals')).at(-1)).toBe('none');
  });
});

describe('training curves picture', () => {
  const epochs = (n: number, start: number, best: number): EpochRecord[] => Array.from({ length: n }, (_, i) => ({
    epoch: i + 1, trainLoss: 2 - i * 0.1, trainAccuracy: 0.4, validAccuracy: start + i * 0.01, validLoss: 1.2,
    learningRate: 1e-3, imagesPerSecond: 30, seconds: 60, best: i + 1 === best, time: '2026-01-01T00:00:00Z',
  }));
  const points = (line: SvgNode) => line.attrs.points.split(' ').map((p) => p.split(',').map(Number));
  const runIn = (panel: SvgNode, name: string) => findAll(panel, (n) => hasClass('run')(n) && n.attrs['data-run'] === name)[0];

  it('draws both panels with axes, one polyline per run through every epoch, and a legend naming the runs', () => {
    const svg = parseSvg(curvesSvg([{ name: 'teacher', epochs: epochs(10, 0.6, 9) }, { name: 'baseline', epochs: epochs(6, 0.5, 6) }]));
    const panels = findAll(svg, hasClass('panel'));
    expect(panels.map((p) => p.attrs['data-panel'])).toEqual(['train-loss', 'valid-accuracy']);
    for (const panel of panels) {
      expect(findAll(panel, hasClass('axis')).map((a) => a.attrs.class)).toEqual(['axis y', 'axis x']);
      expect(texts(findAll(panel, hasClass('x'))[0])).toContain('epoch');
      for (const [i, [name, n]] of ([['teacher', 10], ['baseline', 6]] as const).entries()) {
        const lines = findAll(runIn(panel, name), byTag('polyline'));
        expect(lines, `${name} in ${panel.attrs['data-panel']}`).toHaveLength(1);
        expect(lines[0].attrs.stroke).toBe(RUN_COLORS[i]);
        const xs = points(lines[0]).map(([x]) => x);
        expect(xs).toHaveLength(n);
        for (let k = 1; k < n; k++) expect(xs[k]).toBeGreaterThan(xs[k - 1]);
      }
    }
    // Accuracy rises every epoch, so its line climbs (SVG's y grows downwards); the loss falls.
    const ys = (panel: number) => points(findAll(runIn(panels[panel], 'teacher'), byTag('polyline'))[0]).map(([, y]) => y);
    for (let k = 1; k < 10; k++) expect(ys(1)[k]).toBeLessThan(ys(1)[k - 1]);
    for (let k = 1; k < 10; k++) expect(ys(0)[k]).toBeGreaterThan(ys(0)[k - 1]);
    expect(texts(one(svg, 'legend'))).toEqual(['teacher', 'baseline']);
    expect(findAll(svg, (n) => n.attrs.stroke === RUN_COLORS[2])).toHaveLength(0);
    // The best epoch is ringed once per panel: epoch 9 of the teacher sits at its 9th point.
    const ring = findAll(runIn(panels[1], 'teacher'), hasClass('best'));
    expect(ring).toHaveLength(1);
    expect(Number(ring[0].attrs.cx)).toBeCloseTo(points(findAll(runIn(panels[1], 'teacher'), byTag('polyline'))[0])[8][0], 1);
  });

  it('breaks a line at a missing value (NaN becomes null in JSON) and lists a run with no epochs yet', () => {
    const gap = epochs(5, 0.5, 5);
    (gap[2] as unknown as { trainLoss: null }).trainLoss = null;
    const file = join(tmp, 'curves.svg');
    writeCurvesSvg([{ name: 'a', epochs: gap }, { name: 'not started', epochs: [] }], file);
    const svg = parseSvg(readFileSync(file, 'utf8'));
    const [loss, accuracy] = findAll(svg, hasClass('panel'));
    expect(findAll(runIn(loss, 'a'), byTag('polyline')).map((l) => points(l).length)).toEqual([2, 2]);
    expect(findAll(runIn(accuracy, 'a'), byTag('polyline')).map((l) => points(l).length)).toEqual([5]);
    expect(findAll(runIn(accuracy, 'not started'), byTag('polyline'))).toHaveLength(0);
    expect(texts(one(svg, 'legend'))).toEqual(['a', 'not started (no epochs yet)']);
    expect(() => curvesSvg([{ name: 'empty', epochs: [] }])).toThrow(/no finished epochs to plot in empty/);
    expect(() => curvesSvg([])).toThrow(/at least one run/);
  });

  it('chooses round tick values covering the data', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(55.2, 79.9)).toEqual([55, 60, 65, 70, 75, 80]);
    const flat = niceTicks(3, 3);
    expect(flat[0]).toBeLessThan(3);
    expect(flat.at(-1)).toBeGreaterThan(3);
    expect(() => niceTicks(0, Number.NaN)).toThrow(/finite/);
  });
});
