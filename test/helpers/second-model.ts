/**
 * A second real model for comparison tests: the committed student with its output bias moved
 * toward one class, saved in the browser format. It is a genuine tfjs model whose predictions
 * differ from the student's on some images, which is what McNemar's test needs.
 */
import * as tf from '@tensorflow/tfjs';
import { fileSaveHandler, loadModelFromDir } from '../../tools/model/file-io.js';

export const STUDENT_DIR = 'models/student-baseline';

export async function writeBiasedStudent(outDir: string, classIndex: number, shift: number): Promise<void> {
  const model = await loadModelFromDir(STUDENT_DIR);
  try {
    const dense = [...model.layers].reverse().find((l) => l.getClassName() === 'Dense');
    if (!dense) throw new Error(`${STUDENT_DIR} has no Dense output layer`);
    const [kernel, bias] = dense.getWeights();
    const shifted = tf.tidy(() => bias.add(tf.oneHot(classIndex, bias.shape[0]).mul(shift)));
    dense.setWeights([kernel, shifted]);
    shifted.dispose();
    await model.save(fileSaveHandler(outDir));
  } finally {
    model.dispose();
  }
}
