/**
 * Fetches a tfjs layers model (model.json + weight shards) with errors that say what is wrong, and
 * keeps the bytes: after a lost WebGL context the model is rebuilt from memory, not refetched.
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../core/face-geometry.js';
import { NUM_CLASSES } from '../core/labels.js';
import { TrackerError } from './types.js';

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

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

export async function fetchModelArtifacts(modelUrl: string): Promise<tf.io.ModelArtifacts> {
  const text = await (await fetchOk(modelUrl, 'model')).text();
  let json: { modelTopology?: object; weightsManifest?: tf.io.WeightsManifestConfig; format?: string };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} is not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} is not a tfjs layers model (no modelTopology / weightsManifest)`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const path of group.paths) {
      const shardUrl = new URL(path, modelUrl).href;
      shards.push(await (await fetchOk(shardUrl, 'weight shard')).arrayBuffer());
    }
  }
  const total = shards.reduce((n, b) => n + b.byteLength, 0);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (BYTES_PER[s.dtype] ?? 4), 0);
  if (total !== expected) {
    throw new TrackerError('model-corrupt', `weights of ${modelUrl} hold ${total} bytes, its manifest needs ${expected}: truncated or from another model`);
  }
  const weightData = tf.io.concatenateArrayBuffers(shards);
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format };
}

/** Builds the model on the current backend and checks it has the face model's shape. */
export async function buildModel(artifacts: tf.io.ModelArtifacts, modelUrl: string): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new TrackerError('model-corrupt', `model ${modelUrl} could not be built: ${(e as Error).message}`);
  }
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || input.join() !== `,${FACE_SIZE},${FACE_SIZE},1` || output.join() !== `,${NUM_CLASSES}`) {
    model.dispose();
    throw new TrackerError('model-corrupt', `model ${modelUrl} takes [${input}] and gives [${output}]; the tracker needs [null,${FACE_SIZE},${FACE_SIZE},1] → [null,${NUM_CLASSES}]`);
  }
  return model;
}
