/**
 * The training objectives. Each takes logits/embeddings as tensors and returns a scalar.
 * Hyperparameters the paper does not give are chosen here and recorded in every run's config.
 */
import * as tf from '@tensorflow/tfjs';

/** Cross-entropy against a target distribution (one-hot in majority mode, soft in probability mode). */
export function crossEntropy(targets: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar);
}

/**
 * Hinton et al. knowledge distillation: (1 - alpha) * CE(targets, student) +
 * alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)).
 * `labelLogits`: what the labels' term sees instead of the student's logits (the logit-adjusted
 * loss shifts them; the teacher's term always matches the student's own).
 */
export function distillationLoss(targets: tf.Tensor2D, studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature: number, alpha: number, labelLogits = studentLogits): tf.Scalar {
  return tf.tidy(() => {
    const hard = crossEntropy(targets, labelLogits);
    const teacherSoft = tf.softmax(tf.div(teacherLogits, temperature));
    const kl = tf.mean(tf.sum(tf.mul(teacherSoft, tf.sub(tf.log(tf.add(teacherSoft, 1e-12)), tf.logSoftmax(tf.div(studentLogits, temperature)))), -1));
    return tf.add(tf.mul(hard, 1 - alpha), tf.mul(kl, alpha * temperature * temperature)) as tf.Scalar;
  });
}

/** Rows scaled to unit L2 norm. */
export function l2Normalise(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.add(tf.norm(x, 'euclidean', -1, true), 1e-12)) as tf.Tensor2D);
}

/** Squared Euclidean distance between every row of a and every row of b: [a.rows, b.rows]. */
export function pairwiseSquaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), -1, true);
    const bb = tf.transpose(tf.sum(tf.square(b), -1, true));
    return tf.relu(tf.add(tf.sub(aa, tf.mul(2, tf.matMul(a, b, false, true))), bb)) as tf.Tensor2D;
  });
}

/**
 * The mining rule, on host arrays so that it is testable on its own: for anchor i, the positive is
 * the FARTHEST teacher embedding of the same class (hardest positive) and the negative is the
 * CLOSEST student embedding of another class (hardest negative), "batch-hard" mining
 * (Hermans et al. 2017). Anchors with no positive or no negative in the batch get -1.
 */
export function mineBatchHard(anchorToTeacher: Float32Array, anchorToStudent: Float32Array, labels: Int32Array): { positive: Int32Array; negative: Int32Array } {
  const n = labels.length;
  const positive = new Int32Array(n).fill(-1);
  const negative = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let far = -Infinity;
    let near = Infinity;
    for (let j = 0; j < n; j++) {
      if (labels[j] === labels[i]) {
        const d = anchorToTeacher[i * n + j];
        if (d > far) { far = d; positive[i] = j; }
      } else {
        const d = anchorToStudent[i * n + j];
        if (d < near) { near = d; negative[i] = j; }
      }
    }
  }
  return { positive, negative };
}

/**
 * Triplet loss, mean over valid anchors of max(0, d(a, p) - d(a, n) + margin) with squared
 * distances of L2-normalised embeddings. anchor/negative: student embeddings of occluded faces;
 * positive: teacher embeddings of whole faces (the paper's triplet distillation).
 */
export function tripletLoss(anchor: tf.Tensor2D, positive: tf.Tensor2D, negative: tf.Tensor2D, margin: number, valid?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const a = l2Normalise(anchor);
    const dPos = tf.sum(tf.square(tf.sub(a, l2Normalise(positive))), -1);
    const dNeg = tf.sum(tf.square(tf.sub(a, l2Normalise(negative))), -1);
    const hinge = tf.relu(tf.add(tf.sub(dPos, dNeg), margin));
    if (!valid) return tf.mean(hinge) as tf.Scalar;
    return tf.div(tf.sum(tf.mul(hinge, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/**
 * The mouth head's loss: binary cross-entropy between its sigmoid outputs and the landmark
 * teacher's targets in [0, 1] (soft labels), less the targets' own entropy so that a perfect head
 * scores 0 (a constant: the gradient is BCE's). BCE rather than squared error because through a
 * sigmoid its gradient on the pre-activation is simply (p − t)/K: it never vanishes on a saturated
 * unit, and most targets sit near 0. Mean over the K blendshapes, then over the faces with mask 1;
 * a face with mask 0 (the teacher could not place it) contributes nothing, not even a NaN: its
 * targets are replaced by 0 before they meet the arithmetic, so its gradient is exactly 0.
 * predicted, targets: [n, K]; mask: [n] of 0/1. A batch without a placed face gives 0.
 */
export function maskedMouthLoss(predicted: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const eps = 1e-6;
    const placed = tf.tile(tf.greater(tf.reshape(mask, [-1, 1]), 0), [1, targets.shape[1]]);
    const t = tf.where(placed, targets, tf.zerosLike(targets));
    const p = tf.clipByValue(predicted, eps, 1 - eps);
    const xent = (q: tf.Tensor) => tf.neg(tf.add(tf.mul(t, tf.log(q)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, q)))));
    const perFace = tf.mean(tf.sub(xent(p), xent(tf.clipByValue(t, eps, 1 - eps))), -1);
    const m = tf.cast(mask, 'float32');
    return tf.div(tf.sum(tf.mul(perFace, m)), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}
