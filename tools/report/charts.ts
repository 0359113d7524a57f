/**
 * The report's pictures, drawn with pngjs only: a confusion-matrix heat map and training curves.
 * render* functions return the raster (tests read its pixels); write* functions save a PNG.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXPRESSIONS } from '../../src/core/labels.js';
import type { Metrics } from '../eval/metrics.js';
import type { EpochRecord } from '../train/run-dir.js';
import { CAP_HEIGHT, textWidth } from './font.js';
import { hexColor, lightness, mix, Raster, type Rgb } from './raster.js';

const INK = hexColor('#222222');
const MUTED = hexColor('#666666');
const FAINT = hexColor('#bbbbbb');
const GRID = hexColor('#e6e6e6');
const WHITE: Rgb = [255, 255, 255];

/** Sequential blues (ColorBrewer "Blues"): light = a small share of the row, dark = most of it. */
const HEAT_STOPS = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'].map(hexColor);

/** Colours that stay apart for up to 10 runs (the Tableau 10 palette). */
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'].map(hexColor);

export function heatColor(value: number): Rgb {
  const v = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(v));
  return mix(HEAT_STOPS[i], HEAT_STOPS[i + 1], v - i);
}

function savePng(raster: Raster, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, raster.toPng());
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix

export type ConfusionInput = Metrics & { split: string; occlusion: string };

/** Where the confusion picture put things: tests and readers of the pixels use it. */
export interface ConfusionLayout {
  gridX: number;
  gridY: number;
  cellW: number;
  cellH: number;
  classes: number;
}

export function checkConfusion(m: Metrics): void {
  const k = EXPRESSIONS.length;
  if (!Array.isArray(m.confusion) || m.confusion.length !== k || m.confusion.some((r) => !Array.isArray(r) || r.length !== k)) {
    throw new Error(`confusion matrix must be ${k}x${k} (classes ${EXPRESSIONS.join(', ')})`);
  }
  for (const row of m.confusion) {
    for (const v of row) if (!Number.isInteger(v) || v < 0) throw new Error(`confusion matrix counts must be whole numbers >= 0, got ${v}`);
  }
}

export function renderConfusion(m: ConfusionInput, title: string): { raster: Raster; layout: ConfusionLayout } {
  checkConfusion(m);
  const k = EXPRESSIONS.length;
  const s = 2; // label scale
  const cellW = 116, cellH = 76;
  const labelW = Math.max(...EXPRESSIONS.map((e) => textWidth(e, s)));
  const axisTitleW = CAP_HEIGHT * s + 16;
  const gridX = 24 + axisTitleW + labelW + 14;
  const gridY = 112;
  const gridW = cellW * k, gridH = cellH * k;
  const totalsW = 96;
  const barX = gridX + gridW + totalsW;
  const width = barX + 24 + 70;
  const height = gridY + gridH + 90;
  const r = new Raster(width, height);

  r.text(title, 24, 22, { scale: 3, color: INK });
  const n = m.confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  r.text(`${m.split}, ${m.occlusion} occlusion, ${n} images. Colour: share of the true class (row).`, 24, 58, { scale: 2, color: MUTED });

  const rowTotals = m.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const x = gridX + p * cellW, y = gridY + t * cellH;
      const count = m.confusion[t][p];
      if (rowTotals[t] === 0) {
        r.fillRect(x, y, cellW, cellH, hexColor('#f2f2f2'));
        continue;
      }
      const share = count / rowTotals[t];
      const fill = heatColor(share);
      r.fillRect(x, y, cellW, cellH, fill);
      const textColor = lightness(fill) < 0.55 ? WHITE : count === 0 ? FAINT : INK;
      r.text(String(count), x + cellW / 2, y + cellH / 2 - 12, { scale: 3, color: textColor, align: 'center', valign: 'middle' });
      if (count > 0) r.text(`${(share * 100).toFixed(1)}%`, x + cellW / 2, y + cellH / 2 + 18, { scale: 2, color: textColor, align: 'center', valign: 'middle' });
    }
  }
  // Thin white gaps between cells, then a frame, then the diagonal (the recalls) outlined.
  for (let i = 1; i < k; i++) {
    r.fillRect(gridX + i * cellW - 1, gridY, 2, gridH, WHITE);
    r.fillRect(gridX, gridY + i * cellH - 1, gridW, 2, WHITE);
  }
  r.strokeRect(gridX - 1, gridY - 1, gridW + 2, gridH + 2, MUTED, 1);
  for (let i = 0; i < k; i++) r.strokeRect(gridX + i * cellW + 1, gridY + i * cellH + 1, cellW - 2, cellH - 2, hexColor('#f4a261'), 3);

  EXPRESSIONS.forEach((e, i) => {
    r.text(e, gridX - 14, gridY + i * cellH + cellH / 2, { scale: s, color: INK, align: 'right', valign: 'middle' });
    r.text(e, gridX + i * cellW + cellW / 2, gridY + gridH + 14, { scale: s, color: INK, align: 'center' });
    r.text(rowTotals[i] === 0 ? 'none' : String(rowTotals[i]), gridX + gridW + totalsW / 2, gridY + i * cellH + cellH / 2, { scale: s, color: MUTED, align: 'center', valign: 'middle' });
  });
  r.text('images', gridX + gridW + totalsW / 2, gridY - 18, { scale: s, color: MUTED, align: 'center' });
  r.text('predicted class', gridX + gridW / 2, gridY + gridH + 50, { scale: s, color: MUTED, align: 'center' });
  r.text('true class', 24, gridY + gridH / 2, { scale: s, color: MUTED, align: 'center', vertical: true });

  // Colour bar: 0% at the bottom, 100% at the top.
  const barW = 18;
  for (let y = 0; y < gridH; y++) r.fillRect(barX, gridY + y, barW, 1, heatColor(1 - y / (gridH - 1)));
  r.strokeRect(barX - 1, gridY - 1, barW + 2, gridH + 2, MUTED, 1);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    const y = gridY + (1 - v) * (gridH - 1);
    r.fillRect(barX + barW + 1, y, 5, 1, MUTED);
    r.text(`${v * 100}%`, barX + barW + 9, y, { scale: s, color: MUTED, valign: 'middle' });
  }
  return { raster: r, layout: { gridX, gridY, cellW, cellH, classes: k } };
}

export function writeConfusionPng(report: ConfusionInput, file: string, title: string): void {
  savePng(renderConfusion(report, title).raster, file);
}

// ---------------------------------------------------------------------------------------------
// Training curves

export interface RunCurves { name: string; epochs: EpochRecord[] }

/** Round tick positions covering [min, max]: steps of 1, 2, 2.5 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`niceTicks needs finite bounds, got ${min}..${max}`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * (1 - 1e-9); v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

function tickLabel(v: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + (Math.round(step / 10 ** Math.floor(Math.log10(step))) === 2.5 ? 1 : 0);
  return v.toFixed(Math.min(4, digits));
}

interface Panel {
  title: string;
  yLabel: string;
  value: (e: EpochRecord) => number | null;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function renderCurves(runs: RunCurves[], title = 'Training curves'): Raster {
  if (runs.length === 0) throw new Error('training curves need at least one run');
  const withData = runs.filter((r) => r.epochs.length > 0);
  if (withData.length === 0) throw new Error(`no finished epochs to plot in ${runs.map((r) => r.name).join(', ')}`);
  const s = 2;
  const panels: Panel[] = [
    { title: 'Train loss', yLabel: 'loss', value: (e) => (finite(e.trainLoss) ? e.trainLoss : null) },
    { title: 'Valid accuracy', yLabel: 'accuracy %', value: (e) => (finite(e.validAccuracy) ? e.validAccuracy * 100 : null) },
  ];
  const panelW = 560, panelH = 380, left = 96, gap = 120;
  // Legend: swatches in rows that fit the width.
  const width = left + 2 * panelW + gap + 40;
  const legendItems = runs.map((r, i) => ({ label: r.epochs.length ? r.name : `${r.name} (no epochs yet)`, color: RUN_COLORS[i % RUN_COLORS.length] }));
  const legendRows: { label: string; color: Rgb }[][] = [[]];
  let lineW = 0;
  for (const item of legendItems) {
    const w = 44 + textWidth(item.label, s) + 28;
    if (lineW + w > width - 2 * left && legendRows[legendRows.length - 1].length) {
      legendRows.push([]);
      lineW = 0;
    }
    legendRows[legendRows.length - 1].push(item);
    lineW += w;
  }
  const legendY = 64;
  // The note gets its own line under the swatches: beside them it ran into a long legend.
  const noteY = legendY + legendRows.length * 28 + 8;
  const top = noteY + 28 + 40;
  const height = top + panelH + 80;
  const r = new Raster(width, height);
  r.text(title, 24, 22, { scale: 3, color: INK });
  legendRows.forEach((row, j) => {
    let x = left;
    for (const item of row) {
      const y = legendY + j * 28 + 8;
      r.line(x, y, x + 32, y, item.color, 3);
      r.disc(x + 16, y, 4.5, item.color);
      x += 44;
      x += r.text(item.label, x, y, { scale: s, color: INK, valign: 'middle' }) + 28;
    }
  });
  const note = 'ringed dot: best epoch (checkpoint kept)';
  r.text(note, left, noteY, { scale: s, color: MUTED, valign: 'middle' });

  const allEpochs = withData.flatMap((run) => run.epochs.map((e) => e.epoch));
  const xTicksRaw = niceTicks(Math.min(1, ...allEpochs), Math.max(...allEpochs), 8).filter((t) => Number.isInteger(t));
  const xMin = Math.min(...allEpochs, xTicksRaw[0] ?? 1);
  const xMax = Math.max(...allEpochs, xMin + 1);
  const xTicks = xTicksRaw.filter((t) => t >= xMin && t <= xMax);

  panels.forEach((panel, pi) => {
    const px = left + pi * (panelW + gap), py = top;
    const values = withData.flatMap((run) => run.epochs.map(panel.value)).filter(finite);
    r.text(panel.title, px + panelW / 2, py - 30, { scale: s + 1, color: INK, align: 'center' });
    if (values.length === 0) {
      r.strokeRect(px, py, panelW, panelH, FAINT, 1);
      r.text('no values recorded', px + panelW / 2, py + panelH / 2, { scale: s, color: MUTED, align: 'center', valign: 'middle' });
      return;
    }
    const yTicks = niceTicks(Math.min(...values), Math.max(...values), 5);
    const yMin = yTicks[0], yMax = yTicks[yTicks.length - 1];
    const step = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
    const X = (e: number) => px + 12 + ((e - xMin) / (xMax - xMin)) * (panelW - 24);
    const Y = (v: number) => py + panelH - ((v - yMin) / (yMax - yMin)) * panelH;
    for (const t of yTicks) {
      r.fillRect(px, Math.round(Y(t)), panelW, 1, GRID);
      r.fillRect(px - 6, Math.round(Y(t)), 6, 1, MUTED);
      r.text(tickLabel(t, step), px - 10, Y(t), { scale: s, color: MUTED, align: 'right', valign: 'middle' });
    }
    for (const t of xTicks) {
      r.fillRect(Math.round(X(t)), py + panelH, 1, 6, MUTED);
      r.text(String(t), X(t), py + panelH + 12, { scale: s, color: MUTED, align: 'center' });
    }
    r.fillRect(px, py, 1, panelH + 1, MUTED);
    r.fillRect(px, py + panelH, panelW, 1, MUTED);
    r.text('epoch', px + panelW / 2, py + panelH + 40, { scale: s, color: MUTED, align: 'center' });
    r.text(panel.yLabel, px - 78, py + panelH / 2, { scale: s, color: MUTED, align: 'center', vertical: true });

    runs.forEach((run, ri) => {
      const color = RUN_COLORS[ri % RUN_COLORS.length];
      // A missing value breaks the line rather than bridging it.
      let segment: [number, number][] = [];
      const flush = () => {
        r.polyline(segment, color, 3);
        segment = [];
      };
      for (const e of run.epochs) {
        const v = panel.value(e);
        if (v === null) flush();
        else segment.push([X(e.epoch), Y(v)]);
      }
      flush();
      const bestEpoch = [...run.epochs].reverse().find((e) => e.best)?.epoch;
      for (const e of run.epochs) {
        const v = panel.value(e);
        if (v === null) continue;
        if (e.epoch === bestEpoch) r.disc(X(e.epoch), Y(v), 8, WHITE, { color, width: 3 });
        r.disc(X(e.epoch), Y(v), 4, color);
      }
    });
  });
  return r;
}

export function writeCurvesPng(runs: RunCurves[], file: string, title?: string): void {
  savePng(renderCurves(runs, title), file);
}
