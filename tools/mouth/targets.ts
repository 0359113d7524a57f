/**
 * Mouth targets of a whole split: the landmark teacher run once over every face, the formulas of
 * src/core/mouth-blendshapes.ts applied, the result cached under .cache/mouth/ with a fingerprint.
 *
 * Cache files, per split and split content: <split>-<contentHash>.json (header: fingerprint, its
 * parts, names, counts) and .bin (n·K float32 targets, NaN for a missing face, then n mask bytes,
 * 1 = the teacher placed the face). The fingerprint joins the teacher's weights and crop, the
 * formulas (version, ramps, screening bounds) and the split's decoded content: a cache made by
 * another teacher, other formulas or other images is never read as this one.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  MOUTH_BLENDSHAPES, MOUTH_FORMULA_VERSION, MOUTH_RAMPS, NUM_MOUTH_BLENDSHAPES, PLAUSIBLE, mouthTargets, writeMouthRow,
} from '../../src/core/mouth-blendshapes.js';
import { loadRawSplit, type RawSplit, type SplitName } from '../data/ferplus.js';
import { loadTeacher, teacherFingerprint, type LandmarkTeacher, type TeacherName } from './teachers.js';

/** A teacher's face score below this means it did not find a face: the face is missing. */
export const MIN_FACE_SCORE = 0.5;

export const DEFAULT_TEACHER: TeacherName = 'facemesh';

export interface MouthTargets {
  /** n × K, row i for names[i], columns in MOUTH_BLENDSHAPES order; NaN where mask is 0. */
  targets: Float32Array;
  /** 1 where the teacher placed the face, 0 where it is missing (leave it out of the mouth loss). */
  mask: Uint8Array;
}

export interface MouthCacheHeader {
  fingerprint: string;
  teacher: string;
  teacherFingerprint: string;
  formulaFingerprint: string;
  contentHash: string;
  split: string;
  blendshapes: string[];
  n: number;
  missing: number;
  /** Why faces are missing: 'face score' or a screening reason from implausibility(). */
  reasons: Record<string, number>;
  names: string[];
}

/** Hash of everything in the formulas that shapes a target. */
export function formulaFingerprint(): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: MOUTH_FORMULA_VERSION, b: MOUTH_BLENDSHAPES, r: MOUTH_RAMPS, p: PLAUSIBLE, s: MIN_FACE_SCORE }))
    .digest('hex').slice(0, 16);
}

/** Hash of a split's decoded images and their order: independent of where the files lie. */
export function contentHash(raw: RawSplit): string {
  return createHash('sha256').update(raw.split).update(JSON.stringify(raw.names)).update(raw.pixels).digest('hex').slice(0, 16);
}

function fingerprintOf(teacherFp: string, formulaFp: string, content: string): string {
  return createHash('sha256').update(`${teacherFp}:${formulaFp}:${content}`).digest('hex').slice(0, 16);
}

export function defaultMouthCacheDir(): string {
  return resolve('.cache/mouth');
}

function stemFor(cacheDir: string, split: string, content: string): string {
  return join(cacheDir, `${split}-${content}`);
}

export class MouthCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MouthCacheError';
  }
}

function readCache(stem: string): { header: MouthCacheHeader; data: MouthTargets } | null {
  if (!existsSync(`${stem}.json`) || !existsSync(`${stem}.bin`)) return null;
  const header = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as MouthCacheHeader;
  const bin = readFileSync(`${stem}.bin`);
  const k = header.blendshapes.length;
  if (bin.length !== header.n * (4 * k + 1)) throw new MouthCacheError(`mouth target cache ${stem}.bin holds ${bin.length} bytes, its header needs ${header.n * (4 * k + 1)}: delete it and run npm run mouth-targets again`);
  const copy = new Uint8Array(bin);
  return {
    header,
    data: { targets: new Float32Array(copy.buffer, 0, header.n * k), mask: copy.subarray(header.n * k * 4) },
  };
}

export interface ComputeOptions {
  teacher?: TeacherName;
  cacheDir?: string;
  batchSize?: number;
  /** Called about every 2 s and at the end: faces done, total, faces screened out so far. */
  progress?: (done: number, total: number, missing: number) => void;
  log?: (message: string) => void;
  /** The decoded FER+ split's cache (tools/data/ferplus.ts; default .cache/ferplus, null = none). */
  splitCacheDir?: string | null;
}

/** Runs the teacher over every face of a split (in raw order) and returns targets + header. */
export async function computeSplitTargets(raw: RawSplit, teacher: LandmarkTeacher, options: ComputeOptions = {}): Promise<{ header: MouthCacheHeader; data: MouthTargets }> {
  const n = raw.names.length;
  const K = NUM_MOUTH_BLENDSHAPES;
  const targets = new Float32Array(n * K).fill(NaN);
  const mask = new Uint8Array(n);
  const reasons: Record<string, number> = {};
  let missing = 0;
  const batch = options.batchSize ?? 32;
  let lastReport = 0;
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const faces = await teacher.locate(raw.pixels, start, count);
    faces.forEach((face, j) => {
      const i = start + j;
      const result = face.score !== null && !(face.score >= MIN_FACE_SCORE) ? { rejected: 'face score' } : mouthTargets(face.keypoints);
      if ('rejected' in result) {
        reasons[result.rejected] = (reasons[result.rejected] ?? 0) + 1;
        missing++;
        return;
      }
      writeMouthRow(result.weights, targets, i * K);
      mask[i] = 1;
    });
    const now = Date.now();
    if (options.progress && (now - lastReport > 2000 || start + count === n)) {
      lastReport = now;
      options.progress(start + count, n, missing);
    }
  }
  const content = contentHash(raw);
  const formulaFp = formulaFingerprint();
  return {
    header: {
      fingerprint: fingerprintOf(teacher.fingerprint, formulaFp, content),
      teacher: teacher.name, teacherFingerprint: teacher.fingerprint, formulaFingerprint: formulaFp, contentHash: content,
      split: raw.split, blendshapes: [...MOUTH_BLENDSHAPES], n, missing, reasons, names: raw.names,
    },
    data: { targets, mask },
  };
}

function writeCache(stem: string, header: MouthCacheHeader, data: MouthTargets): void {
  // Temporary names, then rename: a killed run never leaves half a cache.
  const tmp = `.${process.pid}.tmp`;
  writeFileSync(`${stem}.bin${tmp}`, Buffer.concat([Buffer.from(data.targets.buffer, data.targets.byteOffset, data.targets.byteLength), Buffer.from(data.mask)]));
  writeFileSync(`${stem}.json${tmp}`, JSON.stringify(header));
  renameSync(`${stem}.bin${tmp}`, `${stem}.bin`);
  renameSync(`${stem}.json${tmp}`, `${stem}.json`);
}

async function cacheTargetsOf(raw: RawSplit, teacher: LandmarkTeacher, cacheDir: string, options: ComputeOptions) {
  const fresh = await computeSplitTargets(raw, teacher, options);
  mkdirSync(cacheDir, { recursive: true });
  writeCache(stemFor(cacheDir, raw.split, contentHash(raw)), fresh.header, fresh.data);
  return fresh;
}

/**
 * Computes a split's targets with a teacher the caller holds and caches them, whatever the cache
 * held: for a teacher that is not one of TEACHER_NAMES' files (the trainer's tests use a synthetic
 * one that must pass for the default teacher).
 */
export async function cacheSplitTargets(dataDir: string, split: SplitName, teacher: LandmarkTeacher, options: ComputeOptions = {}): Promise<{ header: MouthCacheHeader; data: MouthTargets }> {
  const raw = loadRawSplit(dataDir, split, { cacheDir: options.splitCacheDir });
  return cacheTargetsOf(raw, teacher, options.cacheDir ?? defaultMouthCacheDir(), options);
}

/**
 * The cached targets of a split when their fingerprint matches this teacher, these formulas and
 * this content; otherwise (none, or a stale one, said so through log) computes and caches them.
 */
export async function ensureSplitTargets(dataDir: string, split: SplitName, options: ComputeOptions = {}): Promise<{ header: MouthCacheHeader; data: MouthTargets; cached: boolean }> {
  const log = options.log ?? (() => {});
  const cacheDir = options.cacheDir ?? defaultMouthCacheDir();
  const raw = loadRawSplit(dataDir, split, { cacheDir: options.splitCacheDir });
  const content = contentHash(raw);
  const stem = stemFor(cacheDir, split, content);
  const teacherName = options.teacher ?? DEFAULT_TEACHER;
  // The fingerprint comes from the teacher's files: the network is loaded only to compute.
  const teacherFp = teacherFingerprint(teacherName);
  const cached = readCache(stem);
  if (cached && teacherFp && cached.header.fingerprint === fingerprintOf(teacherFp, formulaFingerprint(), content)) return { ...cached, cached: true };
  const teacher = await loadTeacher(teacherName);
  try {
    if (cached) {
      log(`mouth target cache ${stem} was made by teacher ${cached.header.teacher} ${cached.header.teacherFingerprint} with formulas ${cached.header.formulaFingerprint}; now teacher ${teacher.name} ${teacher.fingerprint}, formulas ${formulaFingerprint()}: recomputing`);
    }
    return { ...(await cacheTargetsOf(raw, teacher, cacheDir, options)), cached: false };
  } finally {
    teacher.dispose();
  }
}

export interface LoadMouthOptions {
  cacheDir?: string;
  /** The teacher the cache must come from (default: the project's teacher, facemesh). */
  teacher?: TeacherName;
  log?: (message: string) => void;
  /** The decoded FER+ split's cache (tools/data/ferplus.ts; default .cache/ferplus, null = none). */
  splitCacheDir?: string | null;
}

/**
 * The trainer's entry point: mouth targets (n × K float32, MOUTH_BLENDSHAPES order) and mask for
 * `names`, in their order (loadSplit(dataDir, split, mode).names: the label protocol's survivors).
 * Reads only the cache; throws a MouthCacheError saying which command to run when there is none
 * or when it does not match the split's content or the formulas. The teacher's weights join the
 * check when its files are installed here (they are not needed to read a cache).
 */
export function loadMouthTargets(dataDir: string, split: SplitName, names: string[], options: LoadMouthOptions = {}): MouthTargets {
  const cacheDir = options.cacheDir ?? defaultMouthCacheDir();
  const raw = loadRawSplit(dataDir, split, { cacheDir: options.splitCacheDir });
  const content = contentHash(raw);
  const stem = stemFor(cacheDir, split, content);
  const command = `npm run mouth-targets -- --data ${dataDir} --split ${split}`;
  const cached = readCache(stem);
  if (!cached) throw new MouthCacheError(`no mouth targets for ${split} of ${dataDir} in ${cacheDir} (for this split content, ${content}): run ${command}`);
  const { header, data } = cached;
  const teacherName = options.teacher ?? DEFAULT_TEACHER;
  if (header.teacher !== teacherName) throw new MouthCacheError(`mouth targets in ${stem}.json come from teacher ${header.teacher}, ${teacherName} was asked for: run ${command} --teacher ${teacherName}`);
  if (header.formulaFingerprint !== formulaFingerprint()) throw new MouthCacheError(`mouth targets in ${stem}.json were made with other formulas (${header.formulaFingerprint}, now ${formulaFingerprint()}): run ${command}`);
  const teacherFp = teacherFingerprint(teacherName);
  if (teacherFp && teacherFp !== header.teacherFingerprint) throw new MouthCacheError(`mouth targets in ${stem}.json were made with other ${teacherName} weights (${header.teacherFingerprint}, installed ${teacherFp}): run ${command}`);
  if (header.fingerprint !== fingerprintOf(header.teacherFingerprint, header.formulaFingerprint, content)) throw new MouthCacheError(`mouth target cache ${stem}.json has an inconsistent fingerprint: delete it and run ${command}`);
  if (!teacherFp) options.log?.(`${split}: mouth targets from ${header.teacher} ${header.teacherFingerprint} (its weights are not installed here to check against)`);
  const row = new Map(header.names.map((name, i) => [name, i]));
  const K = header.blendshapes.length;
  const targets = new Float32Array(names.length * K);
  const mask = new Uint8Array(names.length);
  names.forEach((name, j) => {
    const i = row.get(name);
    if (i === undefined) throw new MouthCacheError(`image ${name} is not in the mouth targets of ${split} (${stem}.json)`);
    targets.set(data.targets.subarray(i * K, (i + 1) * K), j * K);
    mask[j] = data.mask[i];
  });
  return { targets, mask };
}
