/**
 * Saving and loading tfjs models as plain files (model.json + weights.bin), the format the
 * browser's tf.loadLayersModel reads. tfjs-node is optional, so its file:// handler is not
 * assumed.
 */
import * as tf from '@tensorflow/tfjs';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export const WEIGHTS_FILE = 'weights.bin';

export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts) => {
      mkdirSync(dir, { recursive: true });
      const weights = artifacts.weightData
        ? Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : Buffer.alloc(0);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      // Temporary names then rename: a run killed while saving never leaves a torn model.
      writeFileSync(join(dir, `${WEIGHTS_FILE}.tmp`), weights);
      writeFileSync(join(dir, 'model.json.tmp'), JSON.stringify(modelJson));
      renameSync(join(dir, `${WEIGHTS_FILE}.tmp`), join(dir, WEIGHTS_FILE));
      renameSync(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * Builds a folder's new contents in a temporary folder beside it (`fill` writes there), then swaps
 * it in: the old folder is moved aside only once the new one is complete, and removed only once
 * the new one is in place. A `fill` that throws leaves the old folder as it was. Both renames are
 * within one parent folder, so they never copy.
 */
export async function replaceFolder<T>(outDir: string, fill: (tempDir: string) => Promise<T> | T): Promise<T> {
  const target = resolve(outDir);
  mkdirSync(dirname(target), { recursive: true });
  const temp = mkdtempSync(join(dirname(target), `.${basename(target)}.new-`));
  // mkdtemp makes the folder owner-only; a model folder is served to browsers, often by another user.
  chmodSync(temp, 0o755);
  let result: T;
  try {
    result = await fill(temp);
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  if (!existsSync(target)) {
    renameSync(temp, target);
    return result;
  }
  const old = `${temp.replace(/\.new-([^/]*)$/, '.old-$1')}`;
  renameSync(target, old);
  try {
    renameSync(temp, target);
  } catch (e) {
    renameSync(old, target);
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
  return result;
}

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** Reads model.json and every weight shard it names, checking each is there and the right size. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const jsonPath = join(dir, 'model.json');
      if (!existsSync(jsonPath)) throw new ModelFileError(`no model at ${dir}: ${jsonPath} does not exist`);
      let json: { modelTopology?: object; weightsManifest?: tf.io.WeightsManifestConfig; format?: string };
      try {
        json = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (e) {
        throw new ModelFileError(`${jsonPath} is not valid JSON (${(e as Error).message})`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new ModelFileError(`${jsonPath} is not a tfjs layers model (no modelTopology / weightsManifest)`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(dir, p);
          if (!existsSync(file)) throw new ModelFileError(`weight shard ${file} named by ${jsonPath} does not exist`);
          buffers.push(readFileSync(file));
        }
      }
      const bytes = Buffer.concat(buffers);
      // A quantized weight (tools/model/export.ts --quantize) takes 2 bytes a value as float16, 1 as uint8.
      const bytesPer = (s: tf.io.WeightsManifestEntry) => (s.quantization ? (s.quantization.dtype === 'uint8' ? 1 : 2) : s.dtype === 'float32' || s.dtype === 'int32' ? 4 : 1);
      const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s), 0);
      if (bytes.length !== expected) {
        throw new ModelFileError(`weights of ${dir} hold ${bytes.length} bytes, the manifest needs ${expected}: the files are truncated or from another model`);
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        format: json.format,
      };
    },
  };
}

export async function loadModelFromDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(dir));
}

/** Optimizer state (Adam's moments and step) as one binary file plus a JSON index. */
export async function saveOptimizerState(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const weights = await optimizer.getWeights();
  const index = weights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype }));
  const chunks = await Promise.all(weights.map(async (w) => Buffer.from((await w.tensor.data() as Float32Array).buffer)));
  // getWeights() makes a fresh scalar for the step count ('iter'); the rest are live variables.
  weights.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose());
  writeFileSync(join(dir, 'optimizer.bin.tmp'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'optimizer.json.tmp'), JSON.stringify(index));
  renameSync(join(dir, 'optimizer.bin.tmp'), join(dir, 'optimizer.bin'));
  renameSync(join(dir, 'optimizer.json.tmp'), join(dir, 'optimizer.json'));
}

export async function loadOptimizerState(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const index = JSON.parse(readFileSync(join(dir, 'optimizer.json'), 'utf8')) as { name: string; shape: number[]; dtype: 'float32' | 'int32' }[];
  const bin = readFileSync(join(dir, 'optimizer.bin'));
  let offset = 0;
  const weights = index.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const values = w.dtype === 'int32'
      ? new Int32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + 4 * n))
      : new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + 4 * n));
    offset += 4 * n;
    return { name: w.name, tensor: tf.tensor(values, w.shape, w.dtype) };
  });
  await optimizer.setWeights(weights);
  // setWeights copies each tensor into a new variable: the loaded tensors are ours to free.
  weights.forEach((w) => w.tensor.dispose());
}
