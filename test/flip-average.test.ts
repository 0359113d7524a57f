/**
 * Flip averaging inside the exported graph (issue 17, step 5): the graph's outputs are the mean of
 * the network's outputs on the face and on its mirror image, the mirror's mouth weights with their
 * Left/Right blendshapes swapped back. Checked against the same mean computed with tf.reverse on a
 * model with a mouth head, and through export + reload (float16 too) and the tracker's own loader.
 * Unit tier: small synthetic inputs; the gain on FER2013Valid is measured with `npm run eval`.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_SIZE } from '../src/core/face-geometry.js';
import { MOUTH_BLENDSHAPES, MOUTH_FLIP_PERMUTATION, NUM_MOUTH_BLENDSHAPES } from '../src/core/mouth-blendshapes.js';
import { buildModel as buildTrackerModel } from '../src/tracker/model-loader.js';
import { selectBackend } from '../tools/backend/select.js';
import { buildModel, inferenceGraph } from '../tools/model/architectures.js';
import { exportModel } from '../tools/model/export.js';
import { fileSaveHandler, loadModelFromDir, WEIGHTS_FILE } from '../tools/model/file-io.js';
import { innerNetwork, withFlipAveraging } from '../tools/model/flip-average.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-flip-'));
const N = 4;
let faces: tf.Tensor4D;
let graph: tf.LayersModel;

beforeAll(async () => {
  await selectBackend('wasm', 1);
  // Random weights with a mouth head: any asymmetry of the network shows up as a difference
  // between a face and its mirror image, which is what the averaging must combine correctly.
  graph = inferenceGraph(buildModel('student', 7, 0.99, { mouth: true }));
  faces = tf.randomUniform([N, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
});
afterAll(() => {
  graph.dispose();
  faces.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** The expected outputs, computed without the wrapper: [probabilities, mouth]. */
function expectedOutputs(model: tf.LayersModel, x: tf.Tensor4D): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const [p, m] = model.predict(x) as tf.Tensor[];
    const [pm, mm] = model.predict(tf.reverse(x, 2)) as tf.Tensor[];
    const mouthBack = tf.gather(mm, MOUTH_BLENDSHAPES.map((_, i) => MOUTH_FLIP_PERMUTATION.indexOf(i)), 1);
    return [p.add(pm).div(2).dataSync() as Float32Array, m.add(mouthBack).div(2).dataSync() as Float32Array];
  });
}

function outputsOf(model: tf.LayersModel, x: tf.Tensor4D): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const [p, m] = model.predict(x) as tf.Tensor[];
    return [p.dataSync() as Float32Array, m.dataSync() as Float32Array];
  });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('flip averaging in the graph', () => {
  it('averages the face and its mirror image, swapping the mirror mouth sides back', () => {
    const wrapped = withFlipAveraging(graph);
    const [p, m] = outputsOf(wrapped, faces);
    const [ep, em] = expectedOutputs(graph, faces);
    expect(maxAbsDiff(p, ep)).toBeLessThan(1e-5);
    expect(maxAbsDiff(m, em)).toBeLessThan(1e-5);
    // The network alone is not mirror-symmetric, so this would fail if the flip did nothing.
    const [plain] = outputsOf(graph, faces);
    expect(maxAbsDiff(plain, ep)).toBeGreaterThan(1e-4);
  });

  it('gives a face and its mirror image the same probabilities and mirrored mouth weights', () => {
    const wrapped = withFlipAveraging(graph);
    const [p, m] = outputsOf(wrapped, faces);
    const mirrored = tf.reverse(faces, 2) as tf.Tensor4D;
    const [pm, mm] = outputsOf(wrapped, mirrored);
    mirrored.dispose();
    expect(maxAbsDiff(p, pm)).toBeLessThan(1e-5);
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < NUM_MOUTH_BLENDSHAPES; k++) {
        expect(mm[i * NUM_MOUTH_BLENDSHAPES + MOUTH_FLIP_PERMUTATION[k]]).toBeCloseTo(m[i * NUM_MOUTH_BLENDSHAPES + k], 5);
      }
    }
  });

  it('survives export (float16 too) and loads in Node and in the tracker with the same outputs', async () => {
    const source = join(tmp, 'source');
    await graph.save(fileSaveHandler(source));
    const [ep, em] = expectedOutputs(graph, faces);
    for (const quantize of ['none', 'float16'] as const) {
      const out = join(tmp, `flip-${quantize}`);
      const info = await exportModel(source, out, { quantize, flipAverage: true });
      expect(info.flipAveraged).toBe(true);
      expect(JSON.stringify(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).modelTopology.config.output_layers))
        .toBe(JSON.stringify([['probabilities', 0, 0], ['mouth', 0, 0]]));
      const tolerance = quantize === 'none' ? 1e-5 : 1e-2;
      const reloaded = await loadModelFromDir(out);
      const [p, m] = outputsOf(reloaded, faces);
      // Fine-tuning from it finds the network inside: the exported (folded) student, not the wrapper.
      const inner = innerNetwork(reloaded);
      expect(inner).not.toBe(reloaded);
      expect(inner.getLayer('block1_conv1').getWeights()).toHaveLength(2);
      expect(innerNetwork(inner)).toBe(inner);
      reloaded.dispose();
      expect(maxAbsDiff(p, ep)).toBeLessThan(tolerance);
      expect(maxAbsDiff(m, em)).toBeLessThan(tolerance);
      // The tracker builds it from the same artifacts the browser fetches.
      const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      const weightData = new Uint8Array(readFileSync(join(out, WEIGHTS_FILE))).buffer;
      const artifacts: tf.io.ModelArtifacts = { modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData };
      const tracker = await buildTrackerModel(artifacts, out);
      const [tp] = outputsOf(tracker, faces);
      tracker.dispose();
      expect(maxAbsDiff(tp, ep)).toBeLessThan(tolerance);
    }
  });
});
