/**
 * The report pictures, read back pixel by pixel: the confusion heat map of the real student model
 * on real FER+ faces, training curves, and the bitmap font they are written with.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import type { EvaluationReport } from '../tools/eval/evaluate-model.js';
import { computeMetrics } from '../tools/eval/metrics.js';
import { heatColor, niceTicks, renderConfusion, renderCurves, RUN_COLORS, writeConfusionPng, writeCurvesPng } from '../tools/report/charts.js';
import { evaluateModels } from '../tools/report/compare.js';
import { ADVANCE, glyph, GLYPH_HEIGHT, GLYPH_WIDTH, hasGlyph, textWidth } from '../tools/report/font.js';
import { Raster, type Rgb } from '../tools/report/raster.js';
import type { EpochRecord } from '../tools/train/run-dir.js';
import { DATA_DIR } from './helpers/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-charts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const same = (a: Rgb, b: Rgb, tolerance = 1) => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

describe('bitmap font', () => {
  it('has a distinct glyph of the right size for every printable ASCII character', () => {
    const seen = new Set<string>();
    for (let code = 32; code <= 126; code++) {
      const ch = String.fromCharCode(code);
      expect(hasGlyph(ch), ch).toBe(true);
      const g = glyph(ch);
      expect(g).toHaveLength(GLYPH_HEIGHT);
      for (const row of g) expect(row).toHaveLength(GLYPH_WIDTH);
      const key = g.map((r) => r.map((p) => (p ? '#' : '.')).join('')).join('/');
      expect(seen.has(key), `glyph of ${ch} duplicates another`).toBe(false);
      seen.add(key);
      if (ch !== ' ') expect(g.flat().some(Boolean), `glyph of ${ch} is empty`).toBe(true);
    }
  });

  it('draws unknown characters as a box and measures text at any scale', () => {
    expect(hasGlyph('é')).toBe(false);
    expect(glyph('é').flat().filter(Boolean).length).toBeGreaterThan(10);
    expect(textWidth('', 2)).toBe(0);
    expect(textWidth('ab', 3)).toBe((2 * ADVANCE - 1) * 3);
  });

  it('puts ink exactly where the glyph says', () => {
    const r = new Raster(20, 20);
    r.text('L', 2, 3, { scale: 2, color: [0, 0, 0] });
    // 'L' is the left column plus the bottom row of the 7 capital rows.
    expect(r.pixel(2, 3)).toEqual([0, 0, 0]);
    expect(r.pixel(3, 16)).toEqual([0, 0, 0]);
    expect(r.pixel(11, 16)).toEqual([0, 0, 0]);
    expect(r.pixel(5, 3)).toEqual([255, 255, 255]);
  });
});

describe('confusion matrix picture', () => {
  let report: EvaluationReport;

  beforeAll(async () => {
    await selectBackend('wasm', 1);
    const { reports } = await evaluateModels([{ name: 'student-baseline', dir: 'models/student-baseline' }], {
      dataDir: DATA_DIR, split: 'FER2013Valid', occlusion: 'lower', limit: 300,
    });
    report = reports[0];
  });

  it('colours every cell by its share of the true-class row and writes the counts in it', () => {
    const { raster, layout } = renderConfusion(report, 'student-baseline');
    const rowTotals = report.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    for (let t = 0; t < EXPRESSIONS.length; t++) {
      for (let p = 0; p < EXPRESSIONS.length; p++) {
        const x = layout.gridX + p * layout.cellW, y = layout.gridY + t * layout.cellH;
        const fill = rowTotals[t] ? heatColor(report.confusion[t][p] / rowTotals[t]) : ([242, 242, 242] as Rgb);
        // A corner clear of text and of the diagonal's outline shows the cell's colour.
        expect(same(raster.pixel(x + 10, y + 10), fill), `cell ${t},${p}`).toBe(true);
        if (rowTotals[t] === 0) continue;
        // The count is written in the middle: some pixels there differ from the fill.
        let ink = 0;
        for (let yy = y + 14; yy < y + layout.cellH / 2; yy++) {
          for (let xx = x + 20; xx < x + layout.cellW - 20; xx++) if (!same(raster.pixel(xx, yy), fill, 30)) ink++;
        }
        expect(ink, `count text in cell ${t},${p}`).toBeGreaterThan(20);
      }
    }
  });

  it('gets darker as the share grows, so the diagonal of a decent model stands out', () => {
    const l = (c: Rgb) => c[0] + c[1] + c[2];
    for (let v = 0.1; v <= 1; v += 0.1) expect(l(heatColor(v))).toBeLessThan(l(heatColor(v - 0.1)));
  });

  it('saves a PNG that decodes to the same pixels, and refuses a malformed matrix', () => {
    const file = join(tmp, 'sub', 'confusion.png');
    writeConfusionPng(report, file, 'title');
    const png = PNG.sync.read(readFileSync(file));
    const { raster } = renderConfusion(report, 'title');
    expect([png.width, png.height]).toEqual([raster.width, raster.height]);
    expect(Buffer.from(png.data).equals(Buffer.from(raster.data))).toBe(true);
    const bad = { ...report, confusion: report.confusion.slice(1) };
    expect(() => renderConfusion(bad, 't')).toThrow(/must be 8x8/);
    const negative = { ...report, confusion: report.confusion.map((r, i) => (i === 0 ? [-1, ...r.slice(1)] : r)) };
    expect(() => renderConfusion(negative, 't')).toThrow(/whole numbers >= 0, got -1/);
  });

  it('greys out a class with no images instead of dividing by zero', () => {
    const labels = [0, 0, 1, 1, 2];
    const m = computeMetrics([0, 1, 1, 1, 0], labels);
    const { raster, layout } = renderConfusion({ ...m, split: 'x', occlusion: 'lower' }, 't');
    const y = layout.gridY + 7 * layout.cellH; // contempt: no images
    expect(raster.pixel(layout.gridX + 10, y + 10)).toEqual([242, 242, 242]);
  });
});

describe('training curves picture', () => {
  const epochs = (n: number, start: number, best: number): EpochRecord[] => Array.from({ length: n }, (_, i) => ({
    epoch: i + 1, trainLoss: 2 - i * 0.1, trainAccuracy: 0.4, validAccuracy: start + i * 0.01, validLoss: 1.2,
    learningRate: 1e-3, imagesPerSecond: 30, seconds: 60, best: i + 1 === best, time: '2026-01-01T00:00:00Z',
  }));

  const countColor = (r: Raster, color: Rgb, x0: number, x1: number) => {
    let n = 0;
    for (let y = 0; y < r.height; y++) for (let x = x0; x < x1; x++) if (same(r.pixel(x, y), color, 2)) n++;
    return n;
  };

  it('draws one line per run in both panels', () => {
    const r = renderCurves([{ name: 'teacher', epochs: epochs(10, 0.6, 9) }, { name: 'baseline', epochs: epochs(6, 0.5, 6) }]);
    const mid = Math.floor(r.width / 2);
    for (const color of RUN_COLORS.slice(0, 2)) {
      expect(countColor(r, color, 80, mid)).toBeGreaterThan(200);
      expect(countColor(r, color, mid, r.width)).toBeGreaterThan(200);
    }
    expect(countColor(r, RUN_COLORS[2], 0, r.width)).toBe(0);
  });

  it('copes with a missing value (NaN becomes null in JSON) and a run with no epochs yet', () => {
    const gap = epochs(5, 0.5, 5);
    (gap[2] as unknown as { trainLoss: null }).trainLoss = null;
    const file = join(tmp, 'curves.png');
    writeCurvesPng([{ name: 'a', epochs: gap }, { name: 'not started', epochs: [] }], file);
    const png = PNG.sync.read(readFileSync(file));
    expect(png.width).toBeGreaterThan(800);
    expect(() => renderCurves([{ name: 'empty', epochs: [] }])).toThrow(/no finished epochs to plot in empty/);
    expect(() => renderCurves([])).toThrow(/at least one run/);
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
