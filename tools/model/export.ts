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
 * to megabytes a headset fetches) at about 3 significant digits per weight. 'uint8' quarters it:
 * each kernel as 256 levels between its own min and max (tfjs-converter's affine form), its small
 * tensors (biases) as float16. tfjs expands both back to float32 when it loads the model, so
 * inference still runs in float32, on rounded weights; what the rounding costs is measured by eval.
 */
export type Quantize = 'none' | 'float16' | 'uint8';
export const QUANTIZE_CHOICES: readonly Quantize[] = ['none', 'float16', 'uint8'];

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
  quantization?: Exclude<Quantize, 'none'>; flipAveraged?: true; balance?: ClassBalance;
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

/** One float32 weight as stored: its bytes and its manifest quantization. */
type Encoded = { bytes: Uint8Array; quantization: NonNullable<tf.io.WeightsManifestEntry['quantization']> };

function encodeHalf(name: string, values: Float32Array): Encoded {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > FLOAT16_MAX) throw new Error(`weight ${name}[${i}] = ${values[i]} is beyond float16's range (±${FLOAT16_MAX}): export it with --quantize none`);
  }
  const half = encodeFloat16(values);
  return { bytes: new Uint8Array(half.buffer, half.byteOffset, half.byteLength), quantization: { dtype: 'float16' } };
}

/** 256 levels from the tensor's min to its max; tfjs decodes a level q as min + q * scale. */
function encodeUint8(values: Float32Array): Encoded {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? (max - min) / 255 : 1;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round((values[i] - min) / scale);
  return { bytes, quantization: { dtype: 'uint8', min, scale } };
}

/** Below this many values a tensor (a bias, a head) stays float16 under 'uint8': it saves nothing worth its precision. */
const UINT8_MIN_VALUES = 4096;

/**
 * The same artifacts with every float32 weight stored as `quantize` says, in the manifest form
 * tfjs-converter writes (dtype float32 plus a quantization) and tf.io.decodeWeights reads. Other
 * dtypes are copied as they are. A weight beyond the float16 range is refused rather than shipped as
 * Infinity.
 */
export function quantizeArtifacts(artifacts: tf.io.ModelArtifacts, quantize: Exclude<Quantize, 'none'>): tf.io.ModelArtifacts {
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
    const { bytes, quantization } = quantize === 'uint8' && size >= UINT8_MIN_VALUES ? encodeUint8(values) : encodeHalf(spec.name, values);
    chunks.push(bytes);
    outSpecs.push({ ...spec, quantization });
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
  await files.save!(quantizeArtifacts(captured, quantize));
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
        ...(quantize !== 'none' ? { quantization: quantize } : {}),
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
