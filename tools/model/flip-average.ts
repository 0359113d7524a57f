/**
 * Flip test-time averaging baked into the exported graph: the face and its mirror image go through
 * the same network, and the two outputs are averaged. It lives in the graph (standard layers only:
 * Reshape, a fixed permutation as a Dense kernel, Average) so that the browser tracker, the eval
 * command and any embedding app get it without code of their own, and never drift apart.
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../../src/core/face-geometry.js';
import { MOUTH_FLIP_PERMUTATION } from '../../src/core/mouth-blendshapes.js';
import { MOUTH_LAYER } from './architectures.js';

/** n x n matrix that maps index i to permutation[i] when multiplied from the right (x · P). */
function permutationMatrix(permutation: readonly number[]): tf.Tensor2D {
  const n = permutation.length;
  const values = new Float32Array(n * n);
  permutation.forEach((to, from) => { values[from * n + to] = 1; });
  return tf.tensor2d(values, [n, n]);
}

/** Applies a frozen Dense layer whose kernel permutes the last axis of `x`. */
function permuteLastAxis(name: string, permutation: readonly number[], x: tf.SymbolicTensor): tf.SymbolicTensor {
  const layer = tf.layers.dense({ units: permutation.length, useBias: false, trainable: false, name });
  const out = layer.apply(x) as tf.SymbolicTensor; // builds the kernel, so it can be set
  const kernel = permutationMatrix(permutation);
  layer.setWeights([kernel]);
  kernel.dispose();
  return out;
}

/** Reverses the width axis: index w of each row becomes FACE_SIZE-1-w. */
export const WIDTH_FLIP: readonly number[] = Array.from({ length: FACE_SIZE }, (_, w) => FACE_SIZE - 1 - w);

/**
 * A graph that returns, for each output of `graph`, the mean of its value on the face and on the
 * mirrored face. Class probabilities are averaged as they are; the mouth weights of the mirrored
 * face have their Left/Right blendshapes swapped back first (MOUTH_FLIP_PERMUTATION). `graph`
 * must take [N, FACE_SIZE, FACE_SIZE, 1]; it is shared, not copied (dispose the result's owner only).
 */
export function withFlipAveraging(graph: tf.LayersModel): tf.LayersModel {
  const input = tf.input({ shape: [FACE_SIZE, FACE_SIZE, 1], name: 'face' });
  const rows = tf.layers.reshape({ targetShape: [FACE_SIZE, FACE_SIZE], name: 'flip_rows' }).apply(input) as tf.SymbolicTensor;
  const mirroredRows = permuteLastAxis('flip_width', WIDTH_FLIP, rows);
  const mirrored = tf.layers.reshape({ targetShape: [FACE_SIZE, FACE_SIZE, 1], name: 'flip_face' }).apply(mirroredRows) as tf.SymbolicTensor;
  const asList = (t: tf.SymbolicTensor | tf.SymbolicTensor[]) => (Array.isArray(t) ? t : [t]);
  const direct = asList(graph.apply(input) as tf.SymbolicTensor | tf.SymbolicTensor[]);
  const ofMirror = asList(graph.apply(mirrored) as tf.SymbolicTensor | tf.SymbolicTensor[]);
  const outputs = direct.map((out, i) => {
    let back = ofMirror[i];
    if (graph.outputs[i].sourceLayer.name === MOUTH_LAYER) {
      back = permuteLastAxis(`flip_mouth_sides_${i}`, MOUTH_FLIP_PERMUTATION, back);
    }
    // Named as the network's own output layer ('probabilities', 'mouth'), so that whatever finds an
    // output by name finds the averaged one (names are per graph: the network is one nested layer).
    return tf.layers.average({ name: graph.outputs[i].sourceLayer.name }).apply([out, back]) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name: `${graph.name}_flip_averaged` });
}

/**
 * The network a flip-averaged graph wraps (its one nested model), or the model itself when it is
 * not wrapped: the layers whose weights fine-tuning or unfolding wants.
 */
export function innerNetwork(model: tf.LayersModel): tf.LayersModel {
  const nested = model.layers.filter((l): l is tf.LayersModel => l instanceof tf.LayersModel);
  return nested.length === 1 ? nested[0] : model;
}
