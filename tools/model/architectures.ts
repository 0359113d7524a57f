/**
 * The two networks. Both end in a 256-d layer named "embedding" (the triplet stage compares
 * student and teacher embeddings, so their sizes must match), then "logits" and "probabilities".
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../../src/core/face-geometry.js';
import { NUM_CLASSES } from '../../src/core/labels.js';

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

/**
 * Weight initialisation is seeded; dropout is not, on purpose: a seeded tfjs dropout draws the
 * SAME mask at every step, which silently turns dropout into pruning.
 */
export function buildModel(name: ArchitectureName, seed = 1, batchNormMomentum = 0.99): tf.LayersModel {
  const spec = ARCHITECTURES[name];
  let seedCounter = seed * 1000;
  const init = () => tf.initializers.heNormal({ seed: seedCounter++ });
  const input = tf.input({ shape: [FACE_SIZE, FACE_SIZE, 1], name: 'face' });
  let x: tf.SymbolicTensor = input;
  spec.blocks.forEach((filters, b) => {
    for (let c = 0; c < spec.convsPerBlock; c++) {
      const id = `block${b + 1}_conv${c + 1}`;
      x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), name: id }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.batchNormalization({ momentum: batchNormMomentum, name: `${id}_bn` }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${id}_relu` }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `block${b + 1}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: spec.dropout, name: 'dropout_features' }).apply(x) as tf.SymbolicTensor;
  const embedding = tf.layers.dense({ units: EMBEDDING_SIZE, kernelInitializer: init(), name: 'embedding' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'embedding_relu' }).apply(embedding) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: spec.dropout, name: 'dropout_embedding' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: NUM_CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: seedCounter++ }), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  const probabilities = tf.layers.softmax({ name: 'probabilities' }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [probabilities, logits, embedding], name: `halfface_${name}` });
}

/** The single-output graph the browser runs: face in, class probabilities out. */
export function inferenceGraph(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer('probabilities').output as tf.SymbolicTensor, name: model.name });
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

export function parameterCount(model: tf.LayersModel): number {
  return model.countParams();
}
