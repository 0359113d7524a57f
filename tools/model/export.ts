/** Export of a trained model to the browser format, with the facts a model card needs. */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forwardFlops, inferenceGraph } from './architectures.js';
import { applyClassBalance, type ClassBalance } from './class-balance.js';
import { fileSaveHandler, loadModelFromDir, replaceFolder, WEIGHTS_FILE } from './file-io.js';
import { encodeFloat16, FLOAT16_MAX } from './float16.js';
import { withFlipAveraging } from './flip-average.js';
import { foldForInference, type FoldSummary } from './fold.js';

/**
 * How the weights are stored. 'float16' halves the download (issue 17: a shipped student may grow
 * to megabytes a headset fetches) at about 3 significant digits per weight; tfjs expands them back
 * to float32 when it loads the model, so inference still runs in float32, on rounded weights.
 */
export type Quantize = 'none' | 'float16';
export const QUANTIZE_CHOICES: readonly Quantize[] = ['none', 'float16'];

export function parseQuantize(value: string): Quantize {
  if (!(QUANTIZE_CHOICES as readonly string[]).includes(value)) throw new Error(`--quantize ${value}: expected one of ${QUANTIZE_CHOICES.join(', ')}`);
  return value as Quantize;
}

/**
 * flipAverage: the graph averages its outputs on the face and on its mirror image (tools/model/
 * flip-average.ts): twice the compute for a steadier answer (what it gains: README, training).
 * balance: the class prior shifted in the last layer (tools/model/class-balance.ts); tau 0 is none.
 */
export interface ExportOptions { quantize?: Quantize; flipAverage?: boolean; balance?: ClassBalance }

/** `quantization`, `flipAveraged` and `balance` are absent when off, so older export.json files read as they always have. */
export interface ExportInfo {
  source: string; bytes: number; flops: number; parameters: number; sha256: string; folded: FoldSummary;
  quantization?: 'float16'; flipAveraged?: true; balance?: ClassBalance;
}

/** A model folder's export.json, or undefined where it has none or it cannot be read (a model saved by training, say). */
export function readExportInfo(dir: string): Partial<ExportInfo> | undefined {
  const p = join(dir, 'export.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Partial<ExportInfo>;
  } catch {
    return undefined;
  }
}

export function fileFacts(dir: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of ['model.json', WEIGHTS_FILE]) {
    hash.update(readFileSync(join(dir, f)));
    bytes += statSync(join(dir, f)).size;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const VALUE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * The same artifacts with every float32 weight stored as float16, in the manifest form
 * tfjs-converter writes (dtype float32, quantization {dtype: 'float16'}) and tf.io.decodeWeights
 * reads. Other dtypes are copied as they are. A weight beyond the float16 range is refused rather
 * than shipped as Infinity.
 */
export function quantizeArtifactsFloat16(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  const chunks: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new Error(`weight ${spec.name} is already quantized (${spec.quantization.dtype})`);
    const bytesPer = VALUE_BYTES[spec.dtype];
    if (bytesPer === undefined) throw new Error(`weight ${spec.name} has dtype ${spec.dtype}, which the export cannot store`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(offset, offset + size * bytesPer);
    offset += size * bytesPer;
    if (spec.dtype !== 'float32') {
      chunks.push(new Uint8Array(raw));
      outSpecs.push(spec);
      continue;
    }
    const values = new Float32Array(raw);
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i]) > FLOAT16_MAX) throw new Error(`weight ${spec.name}[${i}] = ${values[i]} is beyond float16's range (±${FLOAT16_MAX}): export it with --quantize none`);
    }
    const half = encodeFloat16(values);
    chunks.push(new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
    outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
  }
  if (offset !== data.byteLength) throw new Error(`the weights hold ${data.byteLength} bytes, their specs ${offset}`);
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    weightData.set(c, at);
    at += c.byteLength;
  }
  return { ...artifacts, weightSpecs: outSpecs, weightData: weightData.buffer };
}

/** Saves `model` into `dir`, its weights as `quantize` says. */
async function saveModel(model: tf.LayersModel, dir: string, quantize: Quantize): Promise<void> {
  const files = fileSaveHandler(dir);
  if (quantize === 'none') {
    await model.save(files);
    return;
  }
  // tfjs has no save-time quantization: take the artifacts it would save and rewrite the weights.
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save({
    save: async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  });
  if (!captured) throw new Error('tfjs saved no model artifacts');
  await files.save!(quantizeArtifactsFloat16(captured));
}

/** Writes the browser graph of `sourceDir` and its export.json into `outDir`, which should be new or empty. */
export async function exportModelInto(sourceDir: string, outDir: string, options: ExportOptions = {}): Promise<ExportInfo> {
  const quantize = options.quantize ?? 'none';
  const model = await loadModelFromDir(sourceDir);
  const graph = model.outputs.length > 1 ? inferenceGraph(model) : model;
  try {
    // The browser gets the folded graph: same outputs, about half the WebGL passes.
    const { model: folded, summary } = await foldForInference(graph);
    const balance = options.balance && options.balance.tau > 0 ? options.balance : undefined;
    try {
      if (balance) applyClassBalance(folded, balance);
      // The wrapper shares the folded graph's layers, so disposing `folded` frees both.
      await saveModel(options.flipAverage ? withFlipAveraging(folded) : folded, outDir, quantize);
      const info: ExportInfo = {
        source: sourceDir, ...fileFacts(outDir), flops: forwardFlops(model) * (options.flipAverage ? 2 : 1), parameters: folded.countParams(), folded: summary,
        ...(quantize === 'float16' ? { quantization: 'float16' as const } : {}),
        ...(options.flipAverage ? { flipAveraged: true as const } : {}),
        ...(balance ? { balance } : {}),
      };
      writeFileSync(join(outDir, 'export.json'), JSON.stringify(info, null, 2));
      return info;
    } finally {
      folded.dispose();
    }
  } finally {
    model.dispose();
  }
}

/** Exports `sourceDir` to `outDir`, replacing any model there only once the new one is complete. */
export async function exportModel(sourceDir: string, outDir: string, options: ExportOptions = {}): Promise<ExportInfo> {
  return replaceFolder(outDir, (temp) => exportModelInto(sourceDir, temp, options));
}
