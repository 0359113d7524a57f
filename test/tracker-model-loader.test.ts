/**
 * The model loader (src/tracker/model-loader.ts) in Node against a real HTTP server on 127.0.0.1
 * serving the shipped student model and malformed copies of its model.json: every malformed model
 * is a TrackerError('model-corrupt') that says what is wrong, never a raw TypeError or a 404 for a
 * file the manifest never named. Also the outputs buildModel accepts (the classes, then optionally the
 * mouth head), and preprocessFrame on frames with NaN pixels (bad-frame).
 */
import { readFileSync } from 'node:fs';
import { serveFiles, type FileServer } from './helpers/file-server.js';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../src/core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../src/core/mouth-blendshapes.js';
import { preprocessFrame, PreprocessError } from '../src/core/preprocess.js';
import { buildModel, fetchModelArtifacts, hasMouthOutput } from '../src/tracker/model-loader.js';
import { TrackerError } from '../src/tracker/types.js';

const MODEL_DIR = resolve('models/student-baseline');
const files = new Map<string, string | Buffer>();
let server: FileServer;
let base: string;

type ModelJson = { modelTopology: unknown; weightsManifest: { paths: unknown; weights: Record<string, unknown>[] }[] } & Record<string, unknown>;

beforeAll(async () => {
  const json = readFileSync(resolve(MODEL_DIR, 'model.json'), 'utf8');
  files.set('/good/model.json', json);
  files.set('/good/weights.bin', readFileSync(resolve(MODEL_DIR, 'weights.bin')));
  const variants: Record<string, (m: ModelJson) => unknown> = {
    'empty-group': (m) => ({ ...m, weightsManifest: [{}] }),
    'null-group': (m) => ({ ...m, weightsManifest: [null] }),
    'shape-null': (m) => { m.weightsManifest[0].weights[0].shape = null; return m; },
    'shape-negative': (m) => { m.weightsManifest[0].weights[1].shape = [-16]; return m; },
    'paths-string': (m) => { m.weightsManifest[0].paths = 'weights.bin'; return m; },
    'path-number': (m) => { m.weightsManifest[0].paths = [7]; return m; },
    'dtype-unknown': (m) => { m.weightsManifest[0].weights[0].dtype = 'float64'; return m; },
    'name-missing': (m) => { delete m.weightsManifest[0].weights[0].name; return m; },
    'topology-null': (m) => ({ ...m, modelTopology: null }),
    'json-array': () => [],
    'json-null': () => null,
  };
  for (const [name, change] of Object.entries(variants)) {
    files.set(`/${name}/model.json`, JSON.stringify(change(JSON.parse(json) as ModelJson)));
    files.set(`/${name}/weights.bin`, files.get('/good/weights.bin')!);
  }
  server = await serveFiles(files);
  base = server.base;
});

afterAll(() => server.close());

async function failure(name: string): Promise<unknown> {
  try {
    await fetchModelArtifacts(`${base}/${name}/model.json`);
  } catch (e) {
    return e;
  }
  return null;
}

describe('fetchModelArtifacts', () => {
  it('loads the shipped model (the fixtures are otherwise intact)', async () => {
    const artifacts = await fetchModelArtifacts(`${base}/good/model.json`);
    expect(artifacts.weightData).toBeDefined();
    expect(artifacts.weightSpecs!.length).toBeGreaterThan(4);
  });

  const cases: [string, RegExp][] = [
    ['empty-group', /weightsManifest\[0\]\.paths must be a list of file names/],
    ['null-group', /weightsManifest\[0\] must be an object/],
    ['shape-null', /weightsManifest\[0\]\.weights\[0\] \(block1_conv1\/kernel\): shape must be a list of non-negative integers, got null/],
    ['shape-negative', /weights\[1\] \(block1_conv1\/bias\): shape must be a list of non-negative integers, got \[-16\]/],
    ['paths-string', /weightsManifest\[0\]\.paths must be a list of file names, got "weights.bin"/],
    ['path-number', /weightsManifest\[0\]\.paths must be a list of file names, got \[7\]/],
    ['dtype-unknown', /weights\[0\] \(block1_conv1\/kernel\): dtype "float64" is not one of float32/],
    ['name-missing', /weightsManifest\[0\]\.weights\[0\]: name must be a non-empty string/],
    ['topology-null', /not a tfjs layers model/],
    ['json-array', /not a tfjs layers model/],
    ['json-null', /not a tfjs layers model/],
  ];
  for (const [name, message] of cases) {
    it(`${name} → model-corrupt saying what is wrong`, async () => {
      const e = await failure(name);
      expect(e).toBeInstanceOf(TrackerError);
      expect((e as TrackerError).code).toBe('model-corrupt');
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).toContain(`${base}/${name}/model.json`);
    });
  }
});

describe('buildModel: the outputs the tracker reads', () => {
  /** A tiny face model with the given output widths, as the artifacts the tracker builds from. */
  async function artifactsWith(widths: number[]): Promise<tf.io.ModelArtifacts> {
    const input = tf.input({ shape: [48, 48, 1] });
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const outputs = widths.map((units) => tf.layers.dense({ units, activation: 'sigmoid' }).apply(flat) as tf.SymbolicTensor);
    const model = tf.model({ inputs: input, outputs });
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    model.dispose();
    return saved!;
  }

  it('takes the classes alone, or the classes then the mouth head; refuses any other second output', async () => {
    for (const widths of [[NUM_CLASSES], [NUM_CLASSES, NUM_MOUTH_BLENDSHAPES]]) {
      const model = await buildModel(await artifactsWith(widths), `fixture ${widths}`);
      expect(hasMouthOutput(model)).toBe(widths.length === 2);
      model.dispose();
    }
    for (const widths of [[NUM_CLASSES, 5], [NUM_MOUTH_BLENDSHAPES, NUM_CLASSES], [NUM_CLASSES, NUM_MOUTH_BLENDSHAPES, 1]]) {
      const error = await buildModel(await artifactsWith(widths), `fixture ${widths}`).then(() => null, (e: unknown) => e);
      expect(error, `${widths}`).toBeInstanceOf(TrackerError);
      expect((error as TrackerError).code).toBe('model-corrupt');
      expect((error as Error).message).toMatch(/mouth head/);
    }
  });
});

describe('preprocessFrame', () => {
  it('NaN pixels are an invalid frame, not NaN model input', () => {
    const size = 48;
    const rgba = new Float32Array(size * size * 4);
    // a textured frame, so the only thing wrong with it is the NaN
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) % 251;
    expect(preprocessFrame(rgba, size, size, { x: 0, y: 0, width: size, height: size }).every(Number.isFinite)).toBe(true);
    rgba[4 * (40 * size + 10)] = Number.NaN; // one red value in the visible lower half
    let error: unknown = null;
    try {
      preprocessFrame(rgba, size, size, { x: 0, y: 0, width: size, height: size });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PreprocessError);
    expect((error as PreprocessError).reason).toBe('invalid');
    expect((error as Error).message).toMatch(/not a finite number/);
  });
});
