/**
 * The report's pictures as SVG: a confusion-matrix heat map and training curves. SVG is text, so
 * the viewer sets the type and tests read the structure (cells, axes, one polyline per run,
 * legend) instead of pixels. *Svg functions return the document; write* functions save it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXPRESSIONS } from '../../src/core/labels.js';
import type { Metrics } from '../eval/metrics.js';
import type { EpochRecord } from '../train/run-dir.js';

const INK = '#222222';
const MUTED = '#666666';
const FAINT = '#bbbbbb';
const GRID = '#e6e6e6';
const EMPTY_ROW = '#f2f2f2';
const DIAGONAL = '#f4a261';

/** Sequential blues (ColorBrewer "Blues"): light = a small share of the row, dark = most of it. */
const HEAT_STOPS = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

/** Colours that stay apart for up to 10 runs (the Tableau 10 palette). */
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const hex = (c: number[]) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/** Relative lightness 0..1, to pick white or dark text on a cell. */
export function lightness(color: string): number {
  const [r, g, b] = rgb(color);
  return (0.299 * r + 0.587 * g + 0.114 * b) / 255;
}

/** The heat-map colour of a share in [0, 1], interpolated between the Blues stops. */
export function heatColor(value: number): string {
  const v = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(v));
  const [a, b] = [rgb(HEAT_STOPS[i]), rgb(HEAT_STOPS[i + 1])];
  return hex(a.map((x, k) => x + (b[k] - x) * (v - i)));
}

// ---------------------------------------------------------------------------------------------
// A few SVG elements as strings

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const num = (v: number) => String(Math.round(v * 100) / 100);
type Attrs = Record<string, string | number | undefined>;
const attrs = (a: Attrs) => Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v!)}"`).join('');

const el = (tag: string, a: Attrs, children: string[] = []) => (children.length ? `<${tag}${attrs(a)}>${children.join('')}</${tag}>` : `<${tag}${attrs(a)}/>`);

interface TextOptions { size?: number; color?: string; anchor?: 'start' | 'middle' | 'end'; weight?: 'bold'; rotate?: boolean; cls?: string }

function text(content: string, x: number, y: number, o: TextOptions = {}): string {
  return `<text${attrs({
    class: o.cls, x, y, 'font-size': o.size ?? 14, fill: o.color ?? INK, 'text-anchor': o.anchor, 'font-weight': o.weight,
    'dominant-baseline': 'middle', transform: o.rotate ? `rotate(-90 ${num(x)} ${num(y)})` : undefined,
  })}>${escapeXml(content)}</text>`;
}

function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    el('rect', { width, height, fill: '#ffffff' }),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function save(svg: string, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix

export type ConfusionInput = Metrics & { split: string; occlusion: string };

export function checkConfusion(m: Metrics): void {
  const k = EXPRESSIONS.length;
  if (!Array.isArray(m.confusion) || m.confusion.length !== k || m.confusion.some((r) => !Array.isArray(r) || r.length !== k)) {
    throw new Error(`confusion matrix must be ${k}x${k} (classes ${EXPRESSIONS.join(', ')})`);
  }
  for (const row of m.confusion) {
    for (const v of row) if (!Number.isInteger(v) || v < 0) throw new Error(`confusion matrix counts must be whole numbers >= 0, got ${v}`);
  }
}

/**
 * Rows are the true class, columns the prediction; a cell's colour is its share of the row, so
 * the outlined diagonal reads as each class's recall. Each cell is a rect of class "cell" with
 * data-true, data-predicted and data-count.
 */
export function confusionSvg(m: ConfusionInput, title: string): string {
  checkConfusion(m);
  const k = EXPRESSIONS.length;
  const cellW = 96, cellH = 56, gridX = 150, gridY = 100, totalsW = 80;
  const gridW = cellW * k, gridH = cellH * k;
  const barX = gridX + gridW + totalsW, barW = 16;
  const width = barX + barW + 70, height = gridY + gridH + 80;
  const rowTotals = m.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const n = rowTotals.reduce((a, b) => a + b, 0);
  const body: string[] = [
    text(title, 24, 28, { size: 22, weight: 'bold', cls: 'title' }),
    text(`${m.split}, ${m.occlusion} occlusion, ${n} images. Colour: share of the true class (row).`, 24, 58, { size: 14, color: MUTED }),
  ];
  const cells: string[] = [];
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const x = gridX + p * cellW, y = gridY + t * cellH, count = m.confusion[t][p];
      const share = rowTotals[t] ? count / rowTotals[t] : null;
      const fill = share === null ? EMPTY_ROW : heatColor(share);
      // One pixel of white between cells: the rect is inset by half a pixel on each side.
      cells.push(el('rect', { class: 'cell', x: x + 0.5, y: y + 0.5, width: cellW - 1, height: cellH - 1, fill, 'data-true': EXPRESSIONS[t], 'data-predicted': EXPRESSIONS[p], 'data-count': count }));
      if (share === null) continue;
      const ink = lightness(fill) < 0.55 ? '#ffffff' : count === 0 ? FAINT : INK;
      cells.push(text(String(count), x + cellW / 2, y + cellH / 2 - 8, { size: 18, color: ink, anchor: 'middle', cls: 'count' }));
      if (count > 0) cells.push(text(`${(share * 100).toFixed(1)}%`, x + cellW / 2, y + cellH / 2 + 13, { size: 12, color: ink, anchor: 'middle' }));
    }
  }
  body.push(el('g', { class: 'cells' }, cells));
  body.push(el('rect', { x: gridX, y: gridY, width: gridW, height: gridH, fill: 'none', stroke: MUTED, 'stroke-width': 1 }));
  body.push(el('g', { class: 'diagonal' }, EXPRESSIONS.map((_, i) => el('rect', {
    x: gridX + i * cellW + 2, y: gridY + i * cellH + 2, width: cellW - 4, height: cellH - 4, fill: 'none', stroke: DIAGONAL, 'stroke-width': 3,
  }))));
  body.push(el('g', { class: 'axis y' }, [
    ...EXPRESSIONS.map((e, i) => text(e, gridX - 10, gridY + i * cellH + cellH / 2, { anchor: 'end' })),
    text('true class', 24, gridY + gridH / 2, { color: MUTED, anchor: 'middle', rotate: true }),
  ]));
  body.push(el('g', { class: 'axis x' }, [
    ...EXPRESSIONS.map((e, i) => text(e, gridX + i * cellW + cellW / 2, gridY + gridH + 16, { anchor: 'middle' })),
    text('predicted class', gridX + gridW / 2, gridY + gridH + 46, { color: MUTED, anchor: 'middle' }),
  ]));
  body.push(el('g', { class: 'totals' }, [
    text('images', gridX + gridW + totalsW / 2, gridY - 14, { color: MUTED, anchor: 'middle' }),
    ...rowTotals.map((total, i) => text(total ? String(total) : 'none', gridX + gridW + totalsW / 2, gridY + i * cellH + cellH / 2, { color: MUTED, anchor: 'middle' })),
  ]));
  // Colour bar: 100% at the top, 0% at the bottom.
  const stops = HEAT_STOPS.map((c, i) => el('stop', { offset: `${(100 * i) / (HEAT_STOPS.length - 1)}%`, 'stop-color': c }));
  body.push(el('defs', {}, [el('linearGradient', { id: 'heat', x1: 0, y1: 1, x2: 0, y2: 0 }, stops)]));
  body.push(el('g', { class: 'colour-bar' }, [
    el('rect', { x: barX, y: gridY, width: barW, height: gridH, fill: 'url(#heat)', stroke: MUTED, 'stroke-width': 1 }),
    ...[0, 0.25, 0.5, 0.75, 1].map((v) => text(`${v * 100}%`, barX + barW + 8, gridY + (1 - v) * gridH, { size: 12, color: MUTED })),
  ]));
  return svgDocument(width, height, title, body);
}

export function writeConfusionSvg(report: ConfusionInput, file: string, title: string): void {
  save(confusionSvg(report, title), file);
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
  id: string;
  title: string;
  yLabel: string;
  value: (e: EpochRecord) => number | null;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const CURVE_PANELS: readonly Panel[] = [
  { id: 'train-loss', title: 'Train loss', yLabel: 'loss', value: (e) => (finite(e.trainLoss) ? e.trainLoss : null) },
  { id: 'valid-accuracy', title: 'Valid accuracy', yLabel: 'accuracy %', value: (e) => (finite(e.validAccuracy) ? e.validAccuracy * 100 : null) },
];

/**
 * Train loss and valid accuracy per epoch, side by side, one colour per run. Each panel is a
 * `<g class="panel" data-panel=...>` holding its axes and a polyline per run (more than one only
 * where a missing value breaks the line); the best epoch is ringed.
 */
export function curvesSvg(runs: RunCurves[], title = 'Training curves'): string {
  if (runs.length === 0) throw new Error('training curves need at least one run');
  const withData = runs.filter((r) => r.epochs.length > 0);
  if (withData.length === 0) throw new Error(`no finished epochs to plot in ${runs.map((r) => r.name).join(', ')}`);
  const panelW = 520, panelH = 340, left = 90, gap = 110;
  const width = left + 2 * panelW + gap + 40;
  const legendY = 62, legendRow = 22;
  // Legend entries in rows of at most three: a viewer sizes the text, so widths are not measured.
  const legendRows = Math.ceil(runs.length / 3);
  const noteY = legendY + legendRows * legendRow + 4;
  const top = noteY + 56;
  const height = top + panelH + 70;
  const body: string[] = [text(title, 24, 28, { size: 22, weight: 'bold', cls: 'title' })];
  body.push(el('g', { class: 'legend' }, runs.map((run, i) => {
    const x = left + (i % 3) * ((width - left) / 3), y = legendY + Math.floor(i / 3) * legendRow;
    const color = RUN_COLORS[i % RUN_COLORS.length];
    return el('g', { class: 'legend-entry' }, [
      el('line', { x1: x, y1: y, x2: x + 28, y2: y, stroke: color, 'stroke-width': 3 }),
      el('circle', { cx: x + 14, cy: y, r: 4, fill: color }),
      text(run.epochs.length ? run.name : `${run.name} (no epochs yet)`, x + 36, y),
    ]);
  })));
  body.push(text('ringed dot: best epoch (checkpoint kept)', left, noteY, { size: 13, color: MUTED }));

  const allEpochs = withData.flatMap((run) => run.epochs.map((e) => e.epoch));
  const xTicksRaw = niceTicks(Math.min(1, ...allEpochs), Math.max(...allEpochs), 8).filter((t) => Number.isInteger(t));
  const xMin = Math.min(...allEpochs, xTicksRaw[0] ?? 1);
  const xMax = Math.max(...allEpochs, xMin + 1);
  const xTicks = xTicksRaw.filter((t) => t >= xMin && t <= xMax);

  CURVE_PANELS.forEach((panel, pi) => {
    const px = left + pi * (panelW + gap), py = top;
    const values = withData.flatMap((run) => run.epochs.map(panel.value)).filter(finite);
    const parts: string[] = [text(panel.title, px + panelW / 2, py - 22, { size: 17, anchor: 'middle' })];
    if (values.length === 0) {
      parts.push(el('rect', { x: px, y: py, width: panelW, height: panelH, fill: 'none', stroke: FAINT }));
      parts.push(text('no values recorded', px + panelW / 2, py + panelH / 2, { color: MUTED, anchor: 'middle' }));
      body.push(el('g', { class: 'panel', 'data-panel': panel.id }, parts));
      return;
    }
    const yTicks = niceTicks(Math.min(...values), Math.max(...values), 5);
    const yMin = yTicks[0], yMax = yTicks[yTicks.length - 1];
    const step = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
    const X = (e: number) => px + 12 + ((e - xMin) / (xMax - xMin)) * (panelW - 24);
    const Y = (v: number) => py + panelH - ((v - yMin) / (yMax - yMin)) * panelH;
    parts.push(el('g', { class: 'grid' }, yTicks.map((t) => el('line', { x1: px, y1: Y(t), x2: px + panelW, y2: Y(t), stroke: GRID }))));
    parts.push(el('g', { class: 'axis y' }, [
      el('line', { x1: px, y1: py, x2: px, y2: py + panelH, stroke: MUTED }),
      ...yTicks.map((t) => text(tickLabel(t, step), px - 8, Y(t), { size: 13, color: MUTED, anchor: 'end' })),
      text(panel.yLabel, px - 64, py + panelH / 2, { color: MUTED, anchor: 'middle', rotate: true }),
    ]));
    parts.push(el('g', { class: 'axis x' }, [
      el('line', { x1: px, y1: py + panelH, x2: px + panelW, y2: py + panelH, stroke: MUTED }),
      ...xTicks.map((t) => text(String(t), X(t), py + panelH + 16, { size: 13, color: MUTED, anchor: 'middle' })),
      text('epoch', px + panelW / 2, py + panelH + 42, { color: MUTED, anchor: 'middle' }),
    ]));
    runs.forEach((run, ri) => {
      const color = RUN_COLORS[ri % RUN_COLORS.length];
      // A missing value breaks the line rather than bridging it.
      const segments: [number, number][][] = [[]];
      for (const e of run.epochs) {
        const v = panel.value(e);
        if (v === null) segments.push([]);
        else segments.at(-1)!.push([X(e.epoch), Y(v)]);
      }
      const bestEpoch = [...run.epochs].reverse().find((e) => e.best)?.epoch;
      const dots = run.epochs.flatMap((e) => {
        const v = panel.value(e);
        if (v === null) return [];
        const dot = el('circle', { cx: X(e.epoch), cy: Y(v), r: 4, fill: color });
        return e.epoch === bestEpoch ? [el('circle', { class: 'best', cx: X(e.epoch), cy: Y(v), r: 8, fill: '#ffffff', stroke: color, 'stroke-width': 3 }), dot] : [dot];
      });
      const lines = segments.filter((s) => s.length > 0).map((s) => el('polyline', {
        points: s.map(([x, y]) => `${num(x)},${num(y)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 3, 'stroke-linejoin': 'round',
      }));
      parts.push(el('g', { class: 'run', 'data-run': run.name }, [...lines, ...dots]));
    });
    body.push(el('g', { class: 'panel', 'data-panel': panel.id }, parts));
  });
  return svgDocument(width, height, title, body);
}

export function writeCurvesSvg(runs: RunCurves[], file: string, title?: string): void {
  save(curvesSvg(runs, title), file);
}
