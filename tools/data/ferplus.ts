/**
 * FER+ loaders: the standard folder layout (<base>/FER2013Train|FER2013Valid|FER2013Test with
 * label.csv + PNGs) and the original fer2013.csv + fer2013new.csv pair. Both produce the same
 * RawSplit: 48x48 grey pixels and the 10 raw vote counts per image. Labels are derived later
 * (src/core/labels.ts), so a change of label mode never needs a re-decode.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { FACE_PIXELS, FACE_SIZE, luma } from '../../src/core/face-geometry.js';
import { EXPRESSIONS, NUM_VOTE_COLUMNS, targetFor, type LabelMode } from '../../src/core/labels.js';
import { parseChoice } from '../../src/core/parse-choice.js';

export const SPLITS = ['FER2013Train', 'FER2013Valid', 'FER2013Test'] as const;
export type SplitName = (typeof SPLITS)[number];

export function parseSplit(value: string): SplitName {
  return parseChoice('split', SPLITS, value);
}

/** One split as decoded from disk: row i of pixels and votes belongs to names[i]. */
export interface RawSplit {
  split: string;
  names: string[];
  pixels: Uint8Array; // n * 48 * 48
  votes: Uint8Array; // n * 10
  skipped: SkippedRow[];
}
export interface SkippedRow { file: string; row: number; reason: string }

/** A split with labels applied: what training and evaluation consume. */
export interface LabelledSplit {
  split: string;
  mode: LabelMode;
  names: string[];
  pixels: Uint8Array; // n * 48 * 48
  targets: Float32Array; // n * 8, a distribution per image (one-hot in majority mode)
  labels: Int32Array; // argmax of each target
  dropped: number; // images the label protocol drops
}

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

const CACHE_FORMAT = 1;

/** Splits present under a FER+ base folder (or the CSV pair), in canonical order. */
export function availableSplits(base: string): SplitName[] {
  const dir = resolve(base);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`data folder not found: ${dir} (expected a FER+ folder with FER2013Train/, FER2013Valid/ ... or fer2013.csv + fer2013new.csv)`);
  }
  const folders = SPLITS.filter((s) => existsSync(join(dir, s, 'label.csv')));
  if (folders.length > 0) return folders;
  if (existsSync(join(dir, 'fer2013.csv')) && existsSync(join(dir, 'fer2013new.csv'))) return [...SPLITS];
  const missingLabels = SPLITS.filter((s) => existsSync(join(dir, s)));
  if (missingLabels.length > 0) {
    throw new DataError(`${join(dir, missingLabels[0], 'label.csv')} is missing: each split folder needs its label.csv`);
  }
  throw new DataError(`${dir} holds no FER+ split: expected FER2013Train/, FER2013Valid/ or FER2013Test/ with a label.csv, or fer2013.csv + fer2013new.csv`);
}

/** Splits a CSV line, honouring double quotes ("(0, 0, 48, 48)" holds commas). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) { out.push(field); field = ''; }
    else field += c;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

function parseVotes(fields: string[]): number[] | string {
  if (fields.length !== NUM_VOTE_COLUMNS) return `expected ${NUM_VOTE_COLUMNS} vote counts, found ${fields.length}`;
  const votes = fields.map((f) => (/^\d+$/.test(f) ? Number(f) : NaN));
  const bad = votes.findIndex((v) => !Number.isFinite(v) || v > 255);
  if (bad >= 0) return `malformed vote count "${fields[bad]}" in column ${String(bad + 3)}`;
  return votes;
}

/** Decodes a PNG to 48x48 grey, or returns why it cannot. */
export function decodeFace(bytes: Buffer): Uint8Array | string {
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    return `corrupt PNG (${(e as Error).message})`;
  }
  if (png.width !== FACE_SIZE || png.height !== FACE_SIZE) {
    return `image is ${png.width}x${png.height}, expected ${FACE_SIZE}x${FACE_SIZE}`;
  }
  const grey = new Uint8Array(FACE_PIXELS);
  const d = png.data; // always RGBA after decoding
  for (let i = 0; i < FACE_PIXELS; i++) grey[i] = Math.round(luma(d[4 * i], d[4 * i + 1], d[4 * i + 2]));
  return grey;
}

function readFolderSplit(dir: string, split: string): RawSplit {
  const labelFile = join(dir, 'label.csv');
  const lines = readFileSync(labelFile, 'utf8').split(/\r?\n/);
  const names: string[] = [];
  const pixels: Uint8Array[] = [];
  const votes: number[][] = [];
  const skipped: SkippedRow[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const row = index + 1;
    const fields = splitCsvLine(line);
    const file = fields[0];
    const skip = (reason: string) => skipped.push({ file: `${labelFile}:${row} (${file})`, row, reason });
    if (fields.length !== 2 + NUM_VOTE_COLUMNS) return skip(`expected ${2 + NUM_VOTE_COLUMNS} columns, found ${fields.length}`);
    const v = parseVotes(fields.slice(2));
    if (typeof v === 'string') return skip(v);
    const imagePath = join(dir, file);
    if (!existsSync(imagePath)) return skip(`image ${imagePath} does not exist`);
    const face = decodeFace(readFileSync(imagePath));
    if (typeof face === 'string') return skip(`${imagePath}: ${face}`);
    names.push(file);
    pixels.push(face);
    votes.push(v);
  });
  return pack(split, names, pixels, votes, skipped);
}

function pack(split: string, names: string[], pixels: Uint8Array[], votes: number[][], skipped: SkippedRow[]): RawSplit {
  const p = new Uint8Array(names.length * FACE_PIXELS);
  const v = new Uint8Array(names.length * NUM_VOTE_COLUMNS);
  pixels.forEach((face, i) => p.set(face, i * FACE_PIXELS));
  votes.forEach((row, i) => v.set(row, i * NUM_VOTE_COLUMNS));
  return { split, names, pixels: p, votes: v, skipped };
}

const CSV_USAGE: Record<string, SplitName> = { Training: 'FER2013Train', PublicTest: 'FER2013Valid', PrivateTest: 'FER2013Test' };

/** fer2013.csv (emotion,pixels,Usage) + fer2013new.csv (Usage,Image name,10 votes): rows align by index. */
function readCsvPairSplit(base: string, split: SplitName): RawSplit {
  const pixelFile = join(base, 'fer2013.csv');
  const voteFile = join(base, 'fer2013new.csv');
  const pixelLines = readFileSync(pixelFile, 'utf8').split(/\r?\n/);
  const voteLines = readFileSync(voteFile, 'utf8').split(/\r?\n/);
  const names: string[] = [];
  const pixels: Uint8Array[] = [];
  const votes: number[][] = [];
  const skipped: SkippedRow[] = [];
  for (let i = 1; i < pixelLines.length; i++) {
    if (pixelLines[i].trim() === '') continue;
    const row = i + 1;
    const pf = splitCsvLine(pixelLines[i]);
    const usage = CSV_USAGE[pf[2]];
    if (usage !== split) {
      if (usage === undefined) skipped.push({ file: `${pixelFile}:${row}`, row, reason: `unknown Usage "${pf[2]}"` });
      continue;
    }
    const vf = splitCsvLine(voteLines[i] ?? '');
    const skip = (reason: string) => skipped.push({ file: `${pixelFile}:${row}`, row, reason });
    if (vf.length !== 2 + NUM_VOTE_COLUMNS) { skip(`${voteFile}:${row} has ${vf.length} columns, expected ${2 + NUM_VOTE_COLUMNS}`); continue; }
    const v = parseVotes(vf.slice(2));
    if (typeof v === 'string') { skip(`${voteFile}:${row}: ${v}`); continue; }
    const values = pf[1].split(/\s+/).map(Number);
    if (values.length !== FACE_PIXELS || values.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
      skip(`pixels must be ${FACE_PIXELS} integers 0-255, found ${values.length} values`);
      continue;
    }
    names.push(vf[1] || `row${row}`);
    pixels.push(Uint8Array.from(values));
    votes.push(v);
  }
  return pack(split, names, pixels, votes, skipped);
}

function sourceFingerprint(base: string, split: SplitName): { hash: string; kind: 'folder' | 'csv' } {
  const hash = createHash('sha256').update(`format${CACHE_FORMAT}:${split}:`);
  const folder = join(base, split);
  if (existsSync(join(folder, 'label.csv'))) {
    hash.update(readFileSync(join(folder, 'label.csv')));
    // Image files can change without label.csv changing: their sizes and mtimes join the key.
    for (const f of readdirSync(folder).sort()) {
      const s = statSync(join(folder, f));
      hash.update(`${f}:${s.size}:${s.mtimeMs}\n`);
    }
    return { hash: hash.digest('hex').slice(0, 16), kind: 'folder' };
  }
  for (const f of ['fer2013.csv', 'fer2013new.csv']) {
    const s = statSync(join(base, f));
    hash.update(`${f}:${s.size}:${s.mtimeMs}\n`);
  }
  return { hash: hash.digest('hex').slice(0, 16), kind: 'csv' };
}

export interface LoadOptions {
  /** Folder for decoded-split caches; null disables caching. Default: .cache/ferplus in the cwd. */
  cacheDir?: string | null;
  log?: (message: string) => void;
}

/** Loads one split, from the cache when its inputs have not changed. */
export function loadRawSplit(base: string, split: SplitName, options: LoadOptions = {}): RawSplit {
  const dir = resolve(base);
  const present = availableSplits(dir);
  if (!present.includes(split)) {
    throw new DataError(`split ${split} not found in ${dir} (present: ${present.join(', ') || 'none'})`);
  }
  const log = options.log ?? (() => {});
  const cacheDir = options.cacheDir === undefined ? resolve('.cache/ferplus') : options.cacheDir;
  const { hash, kind } = sourceFingerprint(dir, split);
  const stem = cacheDir ? join(cacheDir, `${split}-${hash}`) : null;
  if (stem && existsSync(`${stem}.json`) && existsSync(`${stem}.bin`)) {
    const index = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { names: string[]; skipped: SkippedRow[] };
    const bin = readFileSync(`${stem}.bin`);
    const n = index.names.length;
    if (bin.length === n * (FACE_PIXELS + NUM_VOTE_COLUMNS)) {
      log(`${split}: ${n} images from cache ${stem}.bin`);
      return {
        split, names: index.names, skipped: index.skipped,
        pixels: new Uint8Array(bin.buffer, bin.byteOffset, n * FACE_PIXELS),
        votes: new Uint8Array(bin.buffer, bin.byteOffset + n * FACE_PIXELS, n * NUM_VOTE_COLUMNS),
      };
    }
    log(`${split}: cache ${stem}.bin has the wrong size, decoding again`);
  }
  const raw = kind === 'folder' ? readFolderSplit(join(dir, split), split) : readCsvPairSplit(dir, split);
  log(`${split}: decoded ${raw.names.length} images, skipped ${raw.skipped.length}`);
  if (stem && cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    // Written under temporary names then renamed, so a killed run never leaves half a cache; the
    // names carry the pid because two runs started together decode the same split at once.
    const tmp = `.${process.pid}.tmp`;
    writeFileSync(`${stem}.bin${tmp}`, Buffer.concat([raw.pixels, raw.votes]));
    writeFileSync(`${stem}.json${tmp}`, JSON.stringify({ names: raw.names, skipped: raw.skipped }));
    renameSync(`${stem}.bin${tmp}`, `${stem}.bin`);
    renameSync(`${stem}.json${tmp}`, `${stem}.json`);
  }
  return raw;
}

/** Applies the label protocol; images it drops are counted, not kept. */
export function applyLabels(raw: RawSplit, mode: LabelMode): LabelledSplit {
  const n = raw.names.length;
  const keep: number[] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const t = targetFor(raw.votes.subarray(i * NUM_VOTE_COLUMNS, (i + 1) * NUM_VOTE_COLUMNS), mode);
    if (t) { keep.push(i); targets.push(t); }
  }
  const pixels = new Uint8Array(keep.length * FACE_PIXELS);
  const t = new Float32Array(keep.length * EXPRESSIONS.length);
  const labels = new Int32Array(keep.length);
  keep.forEach((src, j) => {
    pixels.set(raw.pixels.subarray(src * FACE_PIXELS, (src + 1) * FACE_PIXELS), j * FACE_PIXELS);
    t.set(targets[j], j * EXPRESSIONS.length);
    let best = 0;
    for (let c = 1; c < EXPRESSIONS.length; c++) if (targets[j][c] > targets[j][best]) best = c;
    labels[j] = best;
  });
  return { split: raw.split, mode, names: keep.map((i) => raw.names[i]), pixels, targets: t, labels, dropped: n - keep.length };
}

export function loadSplit(base: string, split: SplitName, mode: LabelMode, options: LoadOptions = {}): LabelledSplit {
  const raw = loadRawSplit(base, split, options);
  if (raw.skipped.length > 0 && options.log) {
    options.log(`${split}: ${raw.skipped.length} rows skipped, e.g. ${raw.skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`).join('; ')}`);
  }
  return applyLabels(raw, mode);
}

export function classCounts(split: LabelledSplit): number[] {
  const counts = new Array<number>(EXPRESSIONS.length).fill(0);
  for (const l of split.labels) counts[l]++;
  return counts;
}

/** A printable per-class table of one split. */
export function describeSplit(split: LabelledSplit): string {
  const counts = classCounts(split);
  const cells = EXPRESSIONS.map((e, i) => `${e} ${counts[i]}`).join(', ');
  return `${split.split} (${split.mode}): ${split.names.length} images (${split.dropped} dropped by the protocol): ${cells}`;
}

/** Resolves the data folder: the flag, else $HALFFACE_DATA, else shared/datasets/ferplus beside the repo or one of its parents. */
export function resolveDataDir(flag?: string): string {
  const given = flag ?? process.env.HALFFACE_DATA;
  if (given) return resolve(given);
  // The data sits in a shared/ folder beside the clone, or beside one of its parents (a CI clone
  // may be nested deeper than the working copy).
  const repoRoot = resolve(import.meta.dirname, '../..');
  for (let dir = dirname(repoRoot); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared/datasets/ferplus');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return resolve(repoRoot, '../shared/datasets/ferplus');
  }
}
