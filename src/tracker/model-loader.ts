/**
 * Fetches a tfjs layers model (model.json + weight shards) with errors that say what is wrong, and
 * keeps the bytes: after a lost WebGL context the model is rebuilt from memory, not refetched.
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../core/face-geometry.js';
import { NUM_CLASSES } from '../core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../core/mouth-blendshapes.js';
import { TrackerError } from './types.js';

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };
/**
 * Quantizations read here, with their bytes per value: what the export writes (`--quantize float16 |
 * uint8`, tfjs-converter's form: dtype float32 plus quantization {dtype: 'float16'}, or {dtype:
 * 'uint8', min, scale}). tfjs also knows uint16, but nothing here writes it, so a model that has it
 * came from elsewhere and is refused rather than trusted.
 */
const QUANTIZED_BYTES: Record<string, number> = { float16: 2, uint8: 1 };

const bytesOf = (s: tf.io.WeightsManifestEntry) => s.shape.reduce((a, b) => a * b, 1) * (s.quantization ? QUANTIZED_BYTES[s.quantization.dtype] : BYTES_PER[s.dtype]);

async function fetchOk(url: string, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new TrackerError('model-missing', `could not fetch ${what} ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new TrackerError('model-missing', `${what} ${url} answered HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown) => JSON.stringify(v) ?? String(v);

/**
 * The weight specs and shard paths of a tfjs weightsManifest, or the first thing wrong with it. The
 * file comes from a server we do not control: every field is checked before anything indexes it,
 * so a malformed model is reported as such instead of as a TypeError or a 404 for a made-up path.
 */
export function readWeightsManifest(manifest: unknown): { specs: tf.io.WeightsManifestEntry[]; paths: string[] } | { problem: string } {
  if (!Array.isArray(manifest)) return { problem: 'weightsManifest must be a list' };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const paths: string[] = [];
  for (const [i, group] of manifest.entries()) {
    const where = `weightsManifest[${i}]`;
    if (!isObject(group)) return { problem: `${where} must be an object, got ${shown(group)}` };
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '')) {
      return { problem: `${where}.paths must be a list of file names, got ${shown(group.paths)}` };
    }
    if (!Array.isArray(group.weights)) return { problem: `${where}.weights must be a list, got ${shown(group.weights)}` };
    for (const [j, w] of group.weights.entries()) {
      const at = `${where}.weights[${j}]`;
      if (!isObject(w) || typeof w.name !== 'string' || w.name === '') return { problem: `${at}: name must be a non-empty string` };
      const named = `${at} (${w.name})`;
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        return { problem: `${named}: shape must be a list of non-negative integers, got ${shown(w.shape)}` };
      }
      if (typeof w.dtype !== 'string' || !Object.hasOwn(BYTES_PER, w.dtype)) {
        return { problem: `${named}: dtype ${shown(w.dtype)} is not one of ${Object.keys(BYTES_PER).join(', ')}` };
      }
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObject(q) || typeof q.dtype !== 'string') return { problem: `${named}: quantization must be an object with a dtype, got ${shown(q)}` };
        if (!Object.hasOwn(QUANTIZED_BYTES, q.dtype)) {
          return { problem: `${named}: quantization dtype ${shown(q.dtype)} is not supported (this tracker reads ${Object.keys(QUANTIZED_BYTES).join(', ')})` };
        }
        // tfjs decodes quantized weights into float32 only, and throws deep inside model building otherwise.
        if (w.dtype !== 'float32') return { problem: `${named}: a ${q.dtype}-quantized weight must have dtype "float32", got ${shown(w.dtype)}` };
        // Without them tfjs decodes every level as NaN: the model would load and answer nothing.
        if (q.dtype === 'uint8' && !(Number.isFinite(q.min) && Number.isFinite(q.scale) && (q.scale as number) > 0)) {
          return { problem: `${named}: a uint8-quantized weight needs a finite min and a positive scale, got ${shown(q)}` };
        }
      }
      specs.push(w as unknown as tf.io.WeightsManifestEntry);
    }
    paths.push(...(group.paths as string[]));
  }
  return { specs, paths };
}

export async function fetchModelArtifacts(modelUrl: string): Promise<tf.io.ModelArtifacts> {
  const text = await (await fetchOk(modelUrl, 'model')).text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} is not a tfjs layers model (no modelTopology / weightsManifest)`);
  }
  const manifest = readWeightsManifest(json.weightsManifest);
  if ('problem' in manifest) throw new TrackerError('model-corrupt', `model ${modelUrl}: ${manifest.problem}`);
  const { specs } = manifest;
  const shards: ArrayBuffer[] = [];
  for (const path of manifest.paths) {
    let shardUrl: string;
    try {
      shardUrl = new URL(path, modelUrl).href;
    } catch {
      throw new TrackerError('model-corrupt', `model ${modelUrl}: weight shard path ${shown(path)} is not a URL`);
    }
    shards.push(await (await fetchOk(shardUrl, 'weight shard')).arrayBuffer());
  }
  const total = shards.reduce((n, b) => n + b.byteLength, 0);
  const expected = specs.reduce((n, s) => n + bytesOf(s), 0);
  if (total !== expected) {
    throw new TrackerError('model-corrupt', `weights of ${modelUrl} hold ${total} bytes, its manifest needs ${expected}: truncated or from another model`);
  }
  const weightData = tf.io.concatenateArrayBuffers(shards);
  const format = typeof json.format === 'string' ? json.format : undefined;
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData, format };
}

/**
 * Builds the model on the current backend and checks it has the face model's shape: one face in,
 * class probabilities out (output 0), and optionally the mouth head's weights (output 1).
 */
export async function buildModel(artifacts: tf.io.ModelArtifacts, modelUrl: string): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} could not be built: ${(e as Error).message}`);
  }
  const input = model.inputs[0]?.shape ?? [];
  const outputs = model.outputs.map((o) => `[${o.shape}]`);
  const expected = [`[,${NUM_CLASSES}]`, `[,${NUM_MOUTH_BLENDSHAPES}]`];
  const outputsOk = (outputs.length === 1 || outputs.length === 2) && outputs.every((o, i) => o === expected[i]);
  if (model.inputs.length !== 1 || input.join() !== `,${FACE_SIZE},${FACE_SIZE},1` || !outputsOk) {
    model.dispose();
    throw new TrackerError('model-corrupt', `model ${modelUrl} takes [${input}] and gives ${outputs.join(', ')}; the tracker needs [null,${FACE_SIZE},${FACE_SIZE},1] → [null,${NUM_CLASSES}] (then [null,${NUM_MOUTH_BLENDSHAPES}]: the mouth head)`);
  }
  return model;
}

/** Whether a model built by buildModel has the mouth head (its second output). */
export const hasMouthOutput = (model: tf.LayersModel) => model.outputs.length === 2;
