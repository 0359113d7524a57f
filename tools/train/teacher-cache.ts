/**
 * The teacher's outputs cached: its logits and embeddings on K fixed augmented views of every
 * training face (tools/data/views.ts), computed once, so kd and triplet students train with no
 * teacher forward pass (a bigger teacher, or an ensemble, then costs a student step nothing).
 *
 * Layout: <root>/<fingerprint>/ with meta.json (what the fingerprint covers, the shapes),
 * logits.bin and embeddings.bin: float32, row face * K + view. The fingerprint is a SHA-256 of the
 * teacher's model.json + weights.bin (architecture and weights), the augmentation, K, the view seed
 * and the training split's names and pixels: any change gives another folder, never a mixed one.
 * A run records the fingerprint it trained on (teacher-outputs.json) and refuses to resume on another.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AugmentConfig } from '../data/augment.js';
import { facesTensor, type HostBatch } from '../data/batches.js';
import type { LabelledSplit } from '../data/ferplus.js';
import { makeViewBatch } from '../data/views.js';
import { fileFacts } from '../model/export.js';
import type { TrainConfig } from './config.js';
import { bestModelDir } from './run-dir.js';

export const TEACHER_CACHE_ROOT = '.cache/teacher-outputs';
const FORMAT = 1;

export class TeacherCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TeacherCacheError';
  }
}

/** Everything the cached outputs depend on. */
export interface TeacherCacheKey {
  format: number;
  /** SHA-256 of the teacher's model.json (its architecture) then weights.bin, as in the model cards. */
  teacher: string;
  augment: Required<AugmentConfig>;
  views: number;
  /** The views' seed (config.viewSeed; the key keeps its first name so that existing caches still match). */
  seed: number;
  /** SHA-256 of the training split's names and pixels (after --limit-train). */
  data: string;
}

export interface TeacherCacheMeta {
  fingerprint: string;
  key: TeacherCacheKey;
  /** Where the teacher was read from (for messages; the fingerprint holds its hash). */
  teacherDir: string;
  faces: number;
  logitsSize: number;
  embeddingSize: number;
  created: string;
}

export function splitFingerprint(split: LabelledSplit): string {
  const hash = createHash('sha256');
  hash.update(split.names.join('\n'));
  hash.update(split.pixels);
  return hash.digest('hex');
}

export function teacherCacheKey(config: TrainConfig, split: LabelledSplit): TeacherCacheKey {
  if (!config.teacher) throw new TeacherCacheError(`the ${config.stage} stage needs a teacher for its cached outputs: --teacher <teacher run or model folder>`);
  return {
    format: FORMAT,
    teacher: fileFacts(bestModelDir(config.teacher)).sha256,
    augment: { ...config.augment, erasing: config.augment.erasing ?? 0 },
    views: config.teacherViews,
    seed: config.viewSeed,
    data: splitFingerprint(split),
  };
}

export const fingerprintOf = (key: TeacherCacheKey) => createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);

/** Cached outputs, looked up by a view batch's faces and views. */
export interface TeacherCache {
  meta: TeacherCacheMeta;
  dir: string;
  logits(batch: HostBatch): tf.Tensor2D;
  embeddings(batch: HostBatch): tf.Tensor2D;
}

function rowsOf(values: Float32Array, size: number, views: number, batch: HostBatch): tf.Tensor2D {
  if (!batch.views) throw new TeacherCacheError('cached teacher outputs need a batch of fixed views (teacherViews > 0)');
  const out = new Float32Array(batch.indices.length * size);
  batch.indices.forEach((face, i) => {
    const row = face * views + batch.views![i];
    out.set(values.subarray(row * size, (row + 1) * size), i * size);
  });
  return tf.tensor2d(out, [batch.indices.length, size]);
}

function floats(path: string, expected: number): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.length !== expected * 4) throw new TeacherCacheError(`${path} holds ${bytes.length} bytes, expected ${expected * 4}: delete the folder to compute it again`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

function openCache(dir: string, key: TeacherCacheKey, fingerprint: string): TeacherCache {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as TeacherCacheMeta;
  if (meta.fingerprint !== fingerprint || JSON.stringify(meta.key) !== JSON.stringify(key)) {
    throw new TeacherCacheError(`${dir} holds the outputs of another teacher or set of views (fingerprint ${meta.fingerprint}, expected ${fingerprint}): refusing to use it; delete it to compute it again`);
  }
  const rows = meta.faces * key.views;
  const logits = floats(join(dir, 'logits.bin'), rows * meta.logitsSize);
  let embeddings: Float32Array | null = null; // read on first use: kd never needs them
  return {
    meta, dir,
    logits: (batch) => rowsOf(logits, meta.logitsSize, key.views, batch),
    embeddings: (batch) => rowsOf(embeddings ??= floats(join(dir, 'embeddings.bin'), rows * meta.embeddingSize), meta.embeddingSize, key.views, batch),
  };
}

export interface CacheOptions {
  root?: string;
  log?: (message: string) => void;
  /** Views per teacher forward pass. */
  chunk?: number;
}

/**
 * The cache for this config's teacher and views: opened when it exists, else computed (the teacher
 * is loaded only then) with a progress line, written to a temporary folder and renamed into place,
 * so a killed computation never leaves a half cache.
 */
export async function ensureTeacherCache(config: TrainConfig, split: LabelledSplit, loadTeacher: () => Promise<tf.LayersModel>, options: CacheOptions = {}): Promise<TeacherCache> {
  const log = options.log ?? (() => {});
  const key = teacherCacheKey(config, split);
  const fingerprint = fingerprintOf(key);
  const dir = resolve(options.root ?? TEACHER_CACHE_ROOT, fingerprint);
  if (existsSync(join(dir, 'meta.json'))) {
    log(`teacher outputs: ${config.teacherViews} views of ${split.labels.length} faces from ${dir}`);
    return openCache(dir, key, fingerprint);
  }
  const faces = split.labels.length;
  const views = config.teacherViews;
  const total = faces * views;
  const chunk = options.chunk ?? 256;
  const teacher = await loadTeacher();
  try {
    let logits: Float32Array | null = null;
    let embeddings: Float32Array | null = null;
    const started = Date.now();
    let lastLog = 0;
    for (let start = 0; start < total; start += chunk) {
      const count = Math.min(chunk, total - start);
      const rows = Int32Array.from({ length: count }, (_, i) => start + i);
      const batch = makeViewBatch(split, rows.map((r) => Math.floor(r / views)), rows.map((r) => r % views), 'none', config.augment, config.viewSeed);
      const [outLogits, outEmbeddings] = tf.tidy(() => {
        const out = teacher.predict(facesTensor(batch.clean)) as tf.Tensor[];
        if (out.length < 3) throw new TeacherCacheError(`${config.teacher} gives ${out.length} outputs, expected [probabilities, logits, embedding]`);
        return [out[1], out[2]];
      });
      const l = await outLogits.data() as Float32Array;
      const e = await outEmbeddings.data() as Float32Array;
      tf.dispose([outLogits, outEmbeddings]);
      logits ??= new Float32Array(total * (l.length / count));
      embeddings ??= new Float32Array(total * (e.length / count));
      logits.set(l, start * (l.length / count));
      embeddings.set(e, start * (e.length / count));
      const done = start + count;
      if (done === total || Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const rate = done / Math.max(1e-3, (Date.now() - started) / 1000);
        log(`teacher outputs: ${done}/${total} views (${views} per face), ${rate.toFixed(0)} views/s, ETA ${((total - done) / rate / 60).toFixed(1)} min`);
      }
    }
    const meta: TeacherCacheMeta = {
      fingerprint, key, teacherDir: config.teacher!, faces,
      logitsSize: logits!.length / total, embeddingSize: embeddings!.length / total, created: new Date().toISOString(),
    };
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'logits.bin'), new Uint8Array(logits!.buffer));
    writeFileSync(join(tmp, 'embeddings.bin'), new Uint8Array(embeddings!.buffer));
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
    renameSync(tmp, dir);
    log(`teacher outputs cached in ${dir}`);
    return openCache(dir, key, fingerprint);
  } finally {
    teacher.dispose();
  }
}

/**
 * Pins a run to the teacher outputs it started on: a resumed run whose configured teacher (or
 * views, or data) now gives another fingerprint stops, instead of mixing two teachers in one run.
 */
export function pinRunToCache(runDir: string, meta: TeacherCacheMeta): void {
  const path = join(runDir, 'teacher-outputs.json');
  if (existsSync(path)) {
    const pinned = JSON.parse(readFileSync(path, 'utf8')) as TeacherCacheMeta;
    if (pinned.fingerprint !== meta.fingerprint) {
      const what = pinned.key.teacher !== meta.key.teacher
        ? `its teacher's weights changed (${pinned.teacherDir} was ${pinned.key.teacher.slice(0, 12)}, ${meta.teacherDir} is now ${meta.key.teacher.slice(0, 12)})`
        : 'its views or training data changed';
      throw new TeacherCacheError(`${runDir} trained on teacher outputs ${pinned.fingerprint}, but the configured teacher now gives ${meta.fingerprint}: ${what}. Teacher outputs are never mixed in one run: resume with the teacher it started with, or start again with --fresh`);
    }
    return;
  }
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path, JSON.stringify({ ...meta, created: undefined }, null, 2));
}
