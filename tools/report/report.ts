/**
 * The markdown evaluation report: our comparison table with McNemar's test, per-class recalls,
 * confusion-matrix pictures, training curves, and the published numbers of the papers we follow,
 * labelled as theirs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { EvaluationReport } from '../eval/evaluate-model.js';
import { readExportInfo, type ExportInfo } from '../model/export.js';
import { percent } from '../eval/format.js';
import { formatP } from '../eval/mcnemar.js';
import type { TrainConfig } from '../train/config.js';
import { epochsTrained, readEpochs, readOrigins, runPaths, type EpochRecord, type Origin } from '../train/run-dir.js';
import { writeConfusionSvg, writeCurvesSvg } from './charts.js';
import { comparisonNote, comparisonTable, perClassComparison, pooledNote, pooledTable, signedPoints, type Comparison, type NamedModel, type Pooled } from './compare.js';

/** Published results, quoted from the papers (each row names its source). Never computed here. */
export const PUBLISHED = [
  {
    source: 'Georgescu & Ionescu, ICPR 2020 (seed paper)',
    model: 'VGG-face (face-pretrained), concatenated KD + triplet distilled embeddings',
    faces: 'lower half',
    data: 'FER+ test split',
    accuracy: 0.8275,
  },
  {
    source: 'Barsoum et al. 2016 (FER+), as cited by the seed paper',
    model: 'VGG-13',
    faces: 'whole face',
    data: 'FER+ test split',
    accuracy: 0.8499,
  },
] as const;

export interface RunSummary {
  name: string;
  dir: string;
  stage: string | null;
  occlusion: string | null;
  architecture: string | null;
  epochs: EpochRecord[];
  /** The folders the run was built from (origins.json), empty for a run from scratch. */
  origins: Origin[];
}

/** A run folder's config and per-epoch metrics; a run with no finished epoch has no records yet. */
export function readRun(dir: string): RunSummary {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`run folder not found: ${dir}`);
  const paths = runPaths(dir);
  if (!existsSync(paths.config) && !existsSync(paths.metrics)) {
    throw new Error(`${dir} is not a run folder: it has neither config.json nor metrics.jsonl`);
  }
  let config: Partial<TrainConfig> = {};
  if (existsSync(paths.config)) {
    try {
      config = JSON.parse(readFileSync(paths.config, 'utf8')) as TrainConfig;
    } catch (e) {
      throw new Error(`${paths.config} is not valid JSON (${(e as Error).message})`);
    }
  }
  let epochs: EpochRecord[];
  try {
    epochs = readEpochs(dir);
  } catch (e) {
    throw new Error(`${paths.metrics} has a line that is not JSON (${(e as Error).message})`);
  }
  for (const [i, e] of epochs.entries()) {
    if (typeof e !== 'object' || e === null || !Number.isInteger(e.epoch)) throw new Error(`${paths.metrics} line ${i + 1} has no whole-number "epoch"`);
  }
  return {
    name: basename(resolve(dir)), dir,
    stage: config.stage ?? null, occlusion: config.occlusion ?? null, architecture: config.architecture ?? null, epochs,
    origins: readOrigins(dir),
  };
}

function bestOf(run: RunSummary): EpochRecord | null {
  const flagged = [...run.epochs].reverse().find((e) => e.best);
  if (flagged) return flagged;
  const scored = run.epochs.filter((e) => Number.isFinite(e.validAccuracy));
  return scored.length ? scored.reduce((a, b) => (b.validAccuracy > a.validAccuracy ? b : a)) : null;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'n/a';
  const h = Math.floor(seconds / 3600), m = Math.round((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

export function runsTable(runs: RunSummary[]): string {
  const rows = runs.map((r) => {
    const best = bestOf(r);
    const seconds = r.epochs.reduce((a, e) => a + (Number.isFinite(e.seconds) ? e.seconds : 0), 0);
    const origins = r.origins.map((o) => `${o.role}: \`${o.dir}\` (\`${o.sha256.slice(0, 12)}\`)`).join('; ') || 'scratch';
    return `| ${r.name} | ${r.stage ?? '?'} | ${r.architecture ?? '?'} | ${r.occlusion ?? '?'} | ${origins} | ${epochsTrained(r.epochs)} | ${best ? `${percent(best.validAccuracy)} (epoch ${best.epoch})` : 'no epoch yet'} | ${duration(seconds)} |`;
  });
  return ['| run | stage | architecture | occlusion | built from (SHA-256 of the weights then) | epochs done | best valid accuracy | training time |', '|---|---|---|---|---|---:|---:|---:|', ...rows].join('\n');
}

type ModelFacts = Partial<ExportInfo>;

function modelFacts(dir: string): ModelFacts {
  return readExportInfo(dir) ?? {};
}

/** What a model costs a headset, as table cells: download size and MFLOPs per image. */
function costText(f: ModelFacts): { size: string; flops: string } {
  return { size: f.bytes ? `${(f.bytes / 1e6).toFixed(2)} MB` : 'n/a', flops: f.flops ? (f.flops / 1e6).toFixed(1) : 'n/a' };
}

export function modelsTable(models: NamedModel[]): string {
  const rows = models.map((m) => {
    const f = modelFacts(m.dir);
    const { size, flops } = costText(f);
    const params = f.parameters ? `${(f.parameters / 1e3).toFixed(0)}k` : 'n/a';
    return `| ${m.name} | \`${m.dir}\` | ${size} | ${flops} | ${params} | ${f.sha256 ? `\`${f.sha256.slice(0, 12)}\`` : 'n/a'} |`;
  });
  return ['| model | folder | weights + graph | MFLOPs / image | parameters | SHA-256 (first 12) |', '|---|---|---:|---:|---:|---|', ...rows].join('\n');
}

/**
 * The short table the README shows: accuracy, difference and McNemar p against the baseline, and
 * what each model costs a headset. Written by `npm run report -- --readme README.md` so that the
 * README can never drift from the report.
 */
export function summaryTable(c: Comparison, models: NamedModel[], reports: EvaluationReport[], pooled: Pooled | null = null): string {
  const rows = c.rows.map((r, i) => {
    const { size, flops } = costText(modelFacts(models[i].dir));
    const vs = r.mcnemar ? `${signedPoints(r.delta)} | ${formatP(r.mcnemar.p)}` : '— | —';
    return `| ${r.mcnemar ? r.name : `**${r.name}** (baseline)`} | ${r.mcnemar ? percent(r.accuracy) : `**${percent(r.accuracy)}**`} | ${percent(reports[i].meanRecall)} | ${vs} | ${size} | ${flops} |`;
  });
  return [
    `${c.n} images of ${c.split}, ${c.occlusion} occlusion, ${c.labelMode} labels; McNemar's test against ${c.baseline} on the same images.`,
    '',
    '| model | accuracy | mean per-class recall | vs baseline (points) | McNemar p | size | MFLOPs / image |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    ...(pooled ? ['', pooledTable(pooled.comparisons, pooled.rows)] : []),
  ].join('\n');
}

const MARK_START = (name: string) => `<!-- ${name}:start -->`;
const MARK_END = (name: string) => `<!-- ${name}:end -->`;

/**
 * `text` with whatever lies between the `<!-- name:start -->` and `<!-- name:end -->` comments
 * replaced by `content`. Missing or disordered markers are an error, so a report never silently
 * skips the file it was asked to update.
 */
export function replaceMarkedSection(text: string, name: string, content: string): string {
  const start = text.indexOf(MARK_START(name));
  const end = text.indexOf(MARK_END(name));
  if (start < 0 || end < 0 || end < start || text.indexOf(MARK_START(name), start + 1) >= 0) {
    throw new Error(`expected one "${MARK_START(name)}" followed by one "${MARK_END(name)}"`);
  }
  return `${text.slice(0, start + MARK_START(name).length)}\n${content}\n${text.slice(end)}`;
}

/** The README section that `--readme` rewrites. */
export const README_SECTION = 'report-summary';

/** Ours next to theirs, each row saying whose number it is and on which data. */
export function publishedTable(c: Comparison, limit: number): string {
  const ours = c.rows.map((r) => `| ours | ${r.name} | ${c.occlusion === 'lower' ? 'lower half' : c.occlusion === 'none' ? 'whole face' : `${c.occlusion} occlusion`} | ${c.split}${limit ? ` (first ${c.n} images only)` : ` (${c.n} images)`} | ${percent(r.accuracy)} |`);
  const theirs = PUBLISHED.map((p) => `| **THEIRS (published)** ${p.source} | ${p.model} | ${p.faces} | ${p.data} | ${percent(p.accuracy)} |`);
  return ['| whose number | model | faces seen | evaluated on | accuracy |', '|---|---|---|---|---:|', ...ours, ...theirs].join('\n');
}

/** A run's legend label: its name, its stage when that differs, and the faces it sees. */
export function runLabel(r: RunSummary): string {
  const faces = r.occlusion === 'none' ? 'whole face' : r.occlusion === 'lower' ? 'lower half' : r.occlusion ? `${r.occlusion} occlusion` : null;
  const parts = [r.stage && r.stage !== r.name ? r.stage : null, faces].filter(Boolean);
  return parts.length ? `${r.name} (${parts.join(', ')})` : r.name;
}

export const safeFileName = (name: string) => name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';

export interface ReportInput {
  comparison: Comparison;
  models: NamedModel[];
  reports: EvaluationReport[];
  runs: RunSummary[];
  backend: string;
  limit: number;
  /** Paths of the pictures, relative to the markdown file. */
  confusionImages: string[];
  curvesImage: string | null;
  /** Why there are no curves, when there are none. */
  curvesNote?: string;
  generated: Date;
  command?: string;
  /** The stages trained again on other seeds (--replicate), each tested across the seeds. */
  pooled?: Pooled | null;
}

export function reportMarkdown(x: ReportInput): string {
  const c = x.comparison;
  const out: string[] = [];
  out.push('# halfface evaluation report', '');
  out.push(`Generated ${x.generated.toISOString()} by \`npm run report\`${x.command ? ` (\`${x.command}\`)` : ''}, backend ${x.backend}.`, '');
  if (x.limit) {
    out.push(`> **Partial evaluation:** only the first ${c.n} images of ${c.split} were scored (\`--limit ${x.limit}\`). These numbers are for checking the tooling, not for reporting.`, '');
  }
  out.push('## Our models', '');
  out.push(comparisonTable(c), '');
  out.push(comparisonNote(c), '');
  out.push(modelsTable(x.models), '');
  if (x.pooled) {
    out.push('## Across seeds', '');
    x.pooled.comparisons.slice(1).forEach((r, k) => out.push(`Replicate ${k + 2}, against its own baseline (${r.baseline}):`, '', comparisonTable(r), ''));
    out.push(pooledTable(x.pooled.comparisons, x.pooled.rows), '');
    out.push(pooledNote(x.pooled.rows), '');
  }
  out.push('## Published numbers, side by side', '');
  out.push(publishedTable(c, x.limit), '');
  out.push(
    `The rows marked THEIRS are quoted from the papers, not reproduced here. They are measured on the FER+ **test** split; ` +
      `we report on **${c.split}**, because the test split is withheld from our data folder. ${c.split === 'FER2013Valid' ? 'FER2013Valid also chose our best checkpoints (early stopping), so it flatters us slightly compared with an untouched test split. ' : ''}` +
      'Their best lower-half model is a face-pretrained VGG-face (hundreds of MB); ours must fit a headset (at most 5 MB). ' +
      'Run `npm run report -- --split FER2013Test ...` on a FER+ copy that has the test split for a like-for-like number.',
    '',
  );
  out.push('## Per-class recall', '');
  out.push(perClassComparison(x.models, x.reports), '');
  out.push('## Confusion matrices', '');
  out.push('Rows are the true class, columns the prediction; colour is the share of the row, so the diagonal reads as each class\'s recall.', '');
  x.models.forEach((m, i) => {
    out.push(`### ${m.name}: ${percent(x.reports[i].accuracy)}`, '', `![confusion matrix of ${m.name}](${x.confusionImages[i]})`, '');
  });
  out.push('## Training', '');
  if (x.runs.length === 0) out.push('No run folders were given (`--runs`).', '');
  else {
    out.push(runsTable(x.runs), '');
    if (x.curvesImage) out.push(`![training curves](${x.curvesImage})`, '');
    else if (x.curvesNote) out.push(x.curvesNote, '');
  }
  return out.join('\n');
}

export interface WriteReportOptions extends Omit<ReportInput, 'confusionImages' | 'curvesImage' | 'curvesNote'> {
  out: string;
}

/** The report's own pictures in its folder: confusion-NN-*.svg and training-curves.svg, or the PNGs of earlier reports. */
const REPORT_PICTURE = /^(confusion-\d+-.*|training-curves)\.(svg|png)$/;

/**
 * Writes the pictures into a folder beside the markdown file, then the markdown. Pictures of an
 * earlier report in that folder that this one does not write (other models, or PNGs from before
 * the pictures were SVG) are removed, so the folder holds what the markdown links. Returns the
 * files written.
 */
export function writeReport(o: WriteReportOptions): string[] {
  const out = resolve(o.out);
  const assets = join(dirname(out), `${basename(out).replace(/\.md$/i, '')}-files`);
  mkdirSync(assets, { recursive: true });
  const written: string[] = [];
  const confusionImages = o.models.map((m, i) => {
    const file = join(assets, `confusion-${String(i + 1).padStart(2, '0')}-${safeFileName(m.name)}.svg`);
    const r = o.reports[i];
    writeConfusionSvg(r, file, `${m.name}: ${percent(r.accuracy)} on ${r.split}, ${r.occlusion} occlusion`);
    written.push(file);
    return relative(dirname(out), file);
  });
  let curvesImage: string | null = null;
  let curvesNote: string | undefined;
  if (o.runs.some((r) => r.epochs.length > 0)) {
    const file = join(assets, 'training-curves.svg');
    writeCurvesSvg(o.runs.map((r) => ({ name: runLabel(r), epochs: r.epochs })), file, 'Training curves (valid accuracy on each run\'s own occlusion)');
    written.push(file);
    curvesImage = relative(dirname(out), file);
  } else if (o.runs.length) {
    curvesNote = `No training curves yet: none of ${o.runs.map((r) => r.name).join(', ')} has finished an epoch.`;
  }
  for (const f of readdirSync(assets)) {
    if (REPORT_PICTURE.test(f) && !written.includes(join(assets, f))) rmSync(join(assets, f));
  }
  writeFileSync(out, reportMarkdown({ ...o, confusionImages, curvesImage, curvesNote }));
  written.push(out);
  return written;
}
