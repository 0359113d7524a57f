/** Classification metrics from predicted probabilities and true labels. Pure functions. */
import { argmax, EXPRESSIONS, NUM_CLASSES } from '../../src/core/labels.js';

export interface Metrics {
  accuracy: number;
  n: number;
  /** Recall of each class (correct / images of that class); null for a class with no images. */
  perClass: Record<string, number | null>;
  /**
   * Mean of the per-class recalls over the classes that have images (balanced accuracy): unlike
   * accuracy, it does not let neutral and happiness (64% of Valid) hide disgust and contempt at 0.
   */
  meanRecall: number;
  /** confusion[true][predicted] = count. */
  confusion: number[][];
}

export function predictedLabels(probabilities: Float32Array): Int32Array {
  const n = probabilities.length / NUM_CLASSES;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmax(probabilities.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
  return out;
}

export function computeMetrics(predicted: ArrayLike<number>, labels: ArrayLike<number>): Metrics {
  if (predicted.length !== labels.length) throw new Error(`computeMetrics: ${predicted.length} predictions for ${labels.length} labels`);
  const confusion = EXPRESSIONS.map(() => new Array<number>(NUM_CLASSES).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    confusion[labels[i]][predicted[i]]++;
    if (labels[i] === predicted[i]) correct++;
  }
  const perClass: Record<string, number | null> = {};
  EXPRESSIONS.forEach((name, c) => {
    const total = confusion[c].reduce((a, b) => a + b, 0);
    perClass[name] = total === 0 ? null : confusion[c][c] / total;
  });
  const recalls = Object.values(perClass).filter((r): r is number => r !== null);
  const meanRecall = recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0;
  return { accuracy: labels.length ? correct / labels.length : 0, n: labels.length, perClass, meanRecall, confusion };
}
