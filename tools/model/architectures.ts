/**
 * The two networks. Both end in a 256-d layer named "embedding" (the triplet stage compares
 * student and teacher embeddings, so their sizes must match), then "logits" and "probabilities";
 * optionally a second head, "mouth": the ARKit mouth blendshapes (issue 18, docs/mouth.md).
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../../src/core/face-geometry.js';
import { NUM_CLASSES } from '../../src/core/labels.js';
import { hiddenRows, type Occlusion } from '../../src/core/occlusion.js';
import { NUM_MOUTH_BLENDSHAPES } from '../../src/core/mouth-blendshapes.js';

export const EMBEDDING_SIZE = 256;
export type ArchitectureName = 'teacher' | 'student';

export interface ArchitectureSpec {
  /** Filters of each conv block; each block is (conv3x3-BN-ReLU) x convsPerBlock, then 2x2 max-pool. */
  blocks: number[];
  convsPerBlock: number;
  dropout: number;
}

export const ARCHITECTURES: Record<ArchitectureName, ArchitectureSpec> = {
  // VGG-style, in the spirit of the FER+ paper's VGG-13 but sized for 2 CPU cores.
  teacher: { blocks: [32, 64, 128, 256], convsPerBlock: 2, dropout: 0.4 },
  // Compact, for the headset: under 100 MFLOPs and a few MB.
  student: { blocks: [16, 32, 64, 128], convsPerBlock: 2, dropout: 0.3 },
};

export function parseArchitecture(name: string): ArchitectureName {
  if (!Object.hasOwn(ARCHITECTURES, name)) throw new Error(`unknown architecture "${name}": expected one of ${Object.keys(ARCHITECTURES).join(', ')}`);
  return name as ArchitectureName;
}

interface BuildOptions { seed: number; batchNormMomentum: number; prefix: string }

/**
 * 2x2 max-pool that keeps an odd map's last row or column ('same' padding) rather than dropping it:
 * a cropped lower half reaches block 4 as 3 rows, the last of them the chin. On even maps (every map
 * of an uncropped 48x48 face) 'same' and 'valid' are the same pooling, so those layers stay 'valid'.
 */
function maxPool(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  const odd = (x.shape[1] ?? 0) % 2 === 1 || (x.shape[2] ?? 0) % 2 === 1;
  return tf.layers.maxPooling2d({ poolSize: 2, padding: odd ? 'same' : 'valid', name }).apply(x) as tf.SymbolicTensor;
}

/**
 * Conv blocks up to the 256-d "embedding" layer (pre-activation), on an existing input; also each
 * block's pooled output (`${prefix}block${n}_pool`), which a mouth branch may read.
 */
function backbone(input: tf.SymbolicTensor, name: ArchitectureName, o: BuildOptions): { embedding: tf.SymbolicTensor; pools: tf.SymbolicTensor[] } {
  const spec = ARCHITECTURES[name];
  let seedCounter = o.seed * 1000;
  const init = () => tf.initializers.heNormal({ seed: seedCounter++ });
  let x = input;
  const pools: tf.SymbolicTensor[] = [];
  spec.blocks.forEach((filters, b) => {
    for (let c = 0; c < spec.convsPerBlock; c++) {
      const id = `${o.prefix}block${b + 1}_conv${c + 1}`;
      x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), name: id }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.batchNormalization({ momentum: o.batchNormMomentum, name: `${id}_bn` }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${id}_relu` }).apply(x) as tf.SymbolicTensor;
    }
    x = maxPool(x, `${o.prefix}block${b + 1}_pool`);
    pools.push(x);
  });
  x = tf.layers.flatten({ name: `${o.prefix}flatten` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: spec.dropout, name: `${o.prefix}dropout_features` }).apply(x) as tf.SymbolicTensor;
  const embedding = tf.layers.dense({ units: EMBEDDING_SIZE, kernelInitializer: init(), name: `${o.prefix}embedding` }).apply(x) as tf.SymbolicTensor;
  return { embedding, pools };
}

/** The mouth head's layer, and its output's name in every exported graph (tools/eval/mouth.ts reads it). */
export const MOUTH_LAYER = 'mouth';

/**
 * Where the mouth head reads from: `head`, a Dense layer on the expression head's dropped-out
 * embedding; or `blockN`, a small conv branch of its own on conv block N's pooled output, which
 * still holds where things are (lip edges a pixel or two apart) that the embedding has pooled away.
 */
export const MOUTH_SOURCES = ['head', 'block1', 'block2', 'block3', 'block4'] as const;
export type MouthSource = (typeof MOUTH_SOURCES)[number];

/** The mouth branch: conv3x3-BN-ReLU-maxpool per entry of `filters`, then Dense `hidden` (ReLU), then the 13 weights. */
export const MOUTH_BRANCH = { filters: [64, 128], hidden: 128, dropout: 0.3 } as const;

/** Every layer of the mouth head or branch: what a mouth-only run trains. */
export const isMouthLayer = (name: string) => name === MOUTH_LAYER || name.startsWith(`${MOUTH_LAYER}_`);

/** The layer whose output a mouth branch starts from ('dropout_embedding' for the plain head). */
export const mouthSourceLayer = (source: MouthSource) => (source === 'head' ? 'dropout_embedding' : `${source}_pool`);

function mouthOutput(x: tf.SymbolicTensor, seed: number): tf.SymbolicTensor {
  return tf.layers.dense({
    units: NUM_MOUTH_BLENDSHAPES, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: MOUTH_LAYER,
  }).apply(x) as tf.SymbolicTensor;
}

function mouthBranch(features: tf.SymbolicTensor, seed: number): tf.SymbolicTensor {
  let seedCounter = seed;
  const init = () => tf.initializers.heNormal({ seed: seedCounter++ });
  let x = features;
  MOUTH_BRANCH.filters.forEach((filters, i) => {
    const id = `${MOUTH_LAYER}_conv${i + 1}`;
    x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), name: id }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `${id}_bn` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `${id}_relu` }).apply(x) as tf.SymbolicTensor;
    // A 1x1 map (block 4's) has nothing left to pool.
    if ((x.shape[1] ?? 0) >= 2) x = maxPool(x, `${id}_pool`);
  });
  x = tf.layers.flatten({ name: `${MOUTH_LAYER}_flatten` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: MOUTH_BRANCH.dropout, name: `${MOUTH_LAYER}_dropout` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: MOUTH_BRANCH.hidden, activation: 'relu', kernelInitializer: init(), name: `${MOUTH_LAYER}_hidden` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: MOUTH_BRANCH.dropout, name: `${MOUTH_LAYER}_hidden_dropout` }).apply(x) as tf.SymbolicTensor;
  return mouthOutput(x, seedCounter);
}

/**
 * ReLU, dropout, "logits", "probabilities" on top of an embedding; with `mouth`, also the "mouth"
 * layer (Dense K, sigmoid) on the same dropped-out features. It hangs after the dropout rather
 * than on the embedding itself so that the embedding keeps one consumer: the export then still
 * folds embedding_relu into the embedding layer, and the head costs one small Dense pass.
 */
function head(embedding: tf.SymbolicTensor, dropout: number, seed: number, mouth = false): { logits: tf.SymbolicTensor; probabilities: tf.SymbolicTensor; mouth?: tf.SymbolicTensor } {
  let x = tf.layers.reLU({ name: 'embedding_relu' }).apply(embedding) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: dropout, name: 'dropout_embedding' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: NUM_CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  const probabilities = tf.layers.softmax({ name: 'probabilities' }).apply(logits) as tf.SymbolicTensor;
  return { logits, probabilities, ...(mouth ? { mouth: mouthOutput(x, seed + 1) } : {}) };
}

/**
 * What the network computes on. `none`: the whole 48x48 input. `visible`: only the rows the run's
 * occlusion leaves visible: a first Cropping2D layer drops the rows that occlusion always blacks
 * out, so a lower-half student does half the work for the same information. The input stays the
 * 48x48 occluded face, so preprocessing, the tracker and evaluation are the same for both.
 */
export const CROPS = ['none', 'visible'] as const;
export type Crop = (typeof CROPS)[number];
export const CROP_LAYER = 'visible_rows';

/** The input, or its rows that `occlusion` leaves visible. */
function cropped(input: tf.SymbolicTensor, crop: Crop, occlusion: Occlusion): tf.SymbolicTensor {
  if (crop === 'none') return input;
  const [start, end] = hiddenRows(occlusion);
  if (start === end) throw new Error(`--crop visible: occlusion "${occlusion}" hides no rows, so there is nothing to crop`);
  const cropping: [[number, number], [number, number]] = start === 0 ? [[end, 0], [0, 0]] : [[0, FACE_SIZE - start], [0, 0]];
  return tf.layers.cropping2D({ cropping, name: CROP_LAYER }).apply(input) as tf.SymbolicTensor;
}

/** A model's crop and the occlusion it was cut for (from its Cropping2D layer), as buildModel takes them. */
export function cropOf(model: tf.LayersModel): { crop: Crop; occlusion: Occlusion } {
  const layer = model.layers.find((l) => l.name === CROP_LAYER);
  if (!layer) return { crop: 'none', occlusion: 'none' };
  const [[top, bottom]] = layer.getConfig().cropping as [[number, number], [number, number]];
  const occlusion: Occlusion = top === hiddenRows('lower')[1] && bottom === 0 ? 'lower' : 'upper';
  return { crop: 'visible', occlusion };
}

export interface ModelOptions {
  /** Compute only on the rows `occlusion` leaves visible (default: all rows). */
  crop?: Crop;
  occlusion?: Occlusion;
  /** Add the mouth head: outputs become [probabilities, logits, embedding, mouth]. */
  mouth?: boolean;
  /** Where the mouth head reads from (default `head`). */
  mouthFrom?: MouthSource;
}

/** Whether a model (training graph or export) carries the mouth head. */
export const hasMouthHead = (model: tf.LayersModel) => model.layers.some((l) => l.name === MOUTH_LAYER);

/** Where a model's mouth head reads from (as buildModel's mouthFrom), or null when it has none. */
export function mouthSourceOf(model: tf.LayersModel): MouthSource | null {
  if (!hasMouthHead(model)) return null;
  const first = model.layers.find((l) => l.name === `${MOUTH_LAYER}_conv1`);
  if (!first) return 'head';
  const from = first.inboundNodes[0]?.inboundLayers[0]?.name ?? '';
  const source = from.replace(/_pool$/, '');
  if (!(MOUTH_SOURCES as readonly string[]).includes(source) || source === 'head') throw new Error(`${model.name}: its mouth branch reads from "${from}", not a conv block's pooled output`);
  return source as MouthSource;
}

const faceInput = () => tf.input({ shape: [FACE_SIZE, FACE_SIZE, 1], name: 'face' });

/**
 * Outputs [probabilities, logits, embedding] (then mouth, with options.mouth). Weight
 * initialisation is seeded; dropout is not, on purpose: a seeded tfjs dropout draws the SAME mask
 * at every step, which silently prunes units.
 */
export function buildModel(name: ArchitectureName, seed = 1, batchNormMomentum = 0.99, options: ModelOptions = {}): tf.LayersModel {
  const input = faceInput();
  const face = cropped(input, options.crop ?? 'none', options.occlusion ?? 'none');
  const { embedding, pools } = backbone(face, name, { seed, batchNormMomentum, prefix: '' });
  const from = options.mouthFrom ?? 'head';
  const { logits, probabilities, mouth: onHead } = head(embedding, ARCHITECTURES[name].dropout, seed * 1000 + 999, options.mouth && from === 'head');
  let mouth = onHead;
  if (options.mouth && from !== 'head') {
    const block = Number(from.slice('block'.length));
    if (block > pools.length) throw new Error(`--mouth-from ${from}: the ${name} network has ${pools.length} conv blocks`);
    mouth = mouthBranch(pools[block - 1], seed * 1000 + 500);
  }
  return tf.model({ inputs: input, outputs: [probabilities, logits, embedding, ...(mouth ? [mouth] : [])], name: `halfface_${name}` });
}

/** Branch prefixes of the concatenated model: the KD student and the triplet student. */
export const CONCAT_BRANCHES = ['kd_', 'triplet_'] as const;

/**
 * The paper's concatenation stage as ONE graph: two student backbones (of the students'
 * architecture) side by side on the same face, their embeddings concatenated (512-d, layer
 * "embedding"), then the usual head. With `mouthFrom` (a conv block), also the kd student's mouth
 * branch on its kd_ backbone, as that student had it: outputs then end with "mouth".
 */
export function buildConcatModel(seed = 1, architecture: ArchitectureName = 'student', options: Pick<ModelOptions, 'crop' | 'occlusion' | 'mouthFrom'> = {}): tf.LayersModel {
  const input = faceInput();
  // One crop for both branches: they see the same rows.
  const face = cropped(input, options.crop ?? 'none', options.occlusion ?? 'none');
  const branches = CONCAT_BRANCHES.map((prefix, i) => backbone(face, architecture, { seed: seed + i, batchNormMomentum: 0.99, prefix }));
  const embedding = tf.layers.concatenate({ name: 'embedding' }).apply(branches.map((b) => b.embedding)) as tf.SymbolicTensor;
  const { logits, probabilities } = head(embedding, ARCHITECTURES[architecture].dropout, seed * 1000 + 999);
  let mouth: tf.SymbolicTensor | undefined;
  if (options.mouthFrom) {
    // The plain head reads the kd student's own 256-d embedding, which the concat no longer has.
    if (options.mouthFrom === 'head') throw new Error('a concat carries its kd student\'s mouth head only as a branch on a conv block (--mouth-from blockN), not on its embedding');
    mouth = mouthBranch(branches[0].pools[Number(options.mouthFrom.slice('block'.length)) - 1], seed * 1000 + 500);
  }
  return tf.model({ inputs: input, outputs: [probabilities, logits, embedding, ...(mouth ? [mouth] : [])], name: 'halfface_concat' });
}

/**
 * The graph the browser runs: face in, class probabilities out (output 0, which the tracker reads),
 * then the mouth weights as output 1 when the model has the mouth head. One graph: both heads share
 * one pass through the backbone.
 */
export function inferenceGraph(model: tf.LayersModel): tf.LayersModel {
  const probabilities = model.getLayer('probabilities').output as tf.SymbolicTensor;
  const outputs = hasMouthHead(model) ? [probabilities, model.getLayer(MOUTH_LAYER).output as tf.SymbolicTensor] : probabilities;
  return tf.model({ inputs: model.inputs, outputs, name: model.name });
}

/** Multiply-accumulates x2 of one forward pass for one image, from the layer shapes. */
export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    if (cls === 'Conv2D') {
      const [kh, kw, cin, cout] = (layer.getWeights()[0].shape) as number[];
      flops += 2 * kh * kw * cin * cout * out[1] * out[2];
    } else if (cls === 'Dense') {
      const [i, o] = layer.getWeights()[0].shape as number[];
      flops += 2 * i * o;
    }
  }
  return flops;
}
