/**
 * Unit tier: our compiled wasm training kernels against the tfjs cpu backend's own gradients, on
 * random tensors of awkward shapes. Error is max |ours - cpu| / max |cpu| per tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTrainingWasmBackend } from '../tools/backend/wasm-node.js';
import { KERNELS_WASM, kernelCounts } from '../tools/backend/training-kernels.js';

const TOLERANCE = 1e-4;

function relativeError(ours: Float32Array, reference: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/** Runs f on the cpu backend, then on wasm with our kernels, on the same input values. */
async function onBothBackends(inputs: tf.Tensor[], f: (...t: tf.Tensor[]) => tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const values = await Promise.all(inputs.map(async (t) => ({ data: await t.data() as Float32Array, shape: t.shape })));
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const local = values.map((v) => tf.tensor(v.data, v.shape));
    const outs = f(...local);
    const data = await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array));
    tf.dispose([...local, ...outs]);
    return data;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { cpu, wasm };
}

const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

beforeAll(async () => {
  await useTrainingWasmBackend(2, 'ours') // two threads: every kernel's work is split;
});

describe('Conv2DBackpropFilter', () => {
  type Shape4 = [number, number, number, number];
  const cases: [string, Shape4, Shape4, number, 'same' | 'valid'][] = [
    ['3x3 same stride 1', [2, 7, 9, 3], [3, 3, 3, 8], 1, 'same'],
    ['3x3 valid stride 2, odd sizes', [2, 9, 7, 5], [3, 3, 5, 16], 2, 'valid'],
    ['3x3 same stride 2', [3, 8, 11, 4], [3, 3, 4, 8], 2, 'same'],
    ['first layer: 1 channel, batch 1', [1, 12, 10, 1], [3, 3, 1, 16], 1, 'same'],
    ['1x1', [2, 5, 5, 6], [1, 1, 6, 24], 1, 'valid'],
    ['5x5 same, batch 1', [1, 9, 9, 2], [5, 5, 2, 32], 1, 'same'],
  ];
  for (const [name, xShape, fShape, stride, pad] of cases) {
    it(`${name}: matches cpu`, async () => {
      const x = random(xShape, 1);
      const dyShape = tf.conv2d(x as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, stride, pad).shape;
      const dy = random(dyShape, 2);
      const before = kernelCounts.ours.Conv2DBackpropFilter ?? 0;
      const { cpu, wasm } = await onBothBackends([x, dy], (xx, dd) => [
        tf.engine().runKernel('Conv2DBackpropFilter', { x: xx, dy: dd }, { strides: stride, pad, dataFormat: 'NHWC', filterShape: fShape } as never) as tf.Tensor,
      ]);
      expect(relativeError(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
      expect(kernelCounts.ours.Conv2DBackpropFilter).toBe(before + 1);
      tf.dispose([x, dy]);
    });
  }

  it('output channels it does not tile (12) fall back to the stock path, counted, still right', async () => {
    const x = random([2, 6, 6, 3], 3);
    const dy = random([2, 6, 6, 12], 4);
    const before = kernelCounts.fallback.Conv2DBackpropFilter ?? 0;
    const { cpu, wasm } = await onBothBackends([x, dy], (xx, dd) => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xx, dy: dd }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 12] } as never) as tf.Tensor,
    ]);
    expect(relativeError(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(kernelCounts.fallback.Conv2DBackpropFilter).toBe(before + 1);
  });
});

describe('MaxPoolGrad', () => {
  const cases: [string, number[], number, number, 'same' | 'valid'][] = [
    ['2x2 stride 2 (tiled)', [2, 8, 6, 8], 2, 2, 'valid'],
    ['2x2 stride 2 on odd sizes', [1, 7, 9, 4], 2, 2, 'valid'],
    // A cropped lower half's block 4: 3 rows pooled to 2, the chin's row kept by padding.
    ['2x2 stride 2 same on an odd map', [2, 3, 6, 8], 2, 2, 'same'],
    ['3x3 stride 2 same, 3 channels', [2, 7, 5, 3], 3, 2, 'same'],
    ['2x2 stride 1 (overlapping), 1 channel', [1, 5, 5, 1], 2, 1, 'valid'],
  ];
  for (const [name, shape, size, stride, pad] of cases) {
    it(`${name}: matches cpu, ties included`, async () => {
      // ReLU output: many windows of equal zeros, where the first maximum must take the gradient.
      const x = tf.relu(random(shape, 5));
      const probe = tf.maxPool(x as tf.Tensor4D, size, stride, pad);
      const dy = random(probe.shape, 6);
      const { cpu, wasm } = await onBothBackends([x, dy], (xx, dd) => [
        tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, size, stride, pad), dd)))(xx),
      ]);
      expect(relativeError(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
      tf.dispose([x, probe, dy]);
    });
  }
});

describe('ReLU gradient', () => {
  it('matches cpu on a 4-d tensor and on an odd-sized 2-d one, zeros included', async () => {
    for (const shape of [[2, 5, 7, 3], [3, 5]]) {
      const x = tf.relu(random(shape, 13)); // exact zeros: the gradient there is 0, as in tfjs
      const dy = random(shape, 14);
      const before = kernelCounts.ours.ReluGrad ?? 0;
      const { cpu, wasm } = await onBothBackends([tf.sub(x, 0.5), dy], (xx, dd) => [tf.grad((i: tf.Tensor) => tf.sum(tf.mul(tf.relu(i), dd)))(xx)]);
      expect(relativeError(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
      expect(kernelCounts.ours.ReluGrad).toBe(before + 1);
    }
  });
});

describe('batch norm in training mode', () => {
  const shapes = [[4, 5, 3, 8], [3, 4, 4, 6], [1, 3, 3, 1], [16, 12, 12, 32]];
  for (const shape of shapes) {
    it(`${shape.join('x')}: output, gradients and moving statistics match cpu`, async () => {
      const C = shape[3];
      const x = tf.add(tf.mul(random(shape, 7), 3), 2);
      const w = random(shape, 8);
      const gammaBeta = [tf.add(random([C], 9), 1), random([C], 10)];
      const { cpu, wasm } = await onBothBackends([x, w, ...gammaBeta], (xx, ww, g, b) => {
        const layer = tf.layers.batchNormalization({ momentum: 0.9 });
        layer.build(xx.shape);
        layer.setWeights([g, b, tf.zeros([C]), tf.ones([C])]);
        const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, ww)) as tf.Scalar;
        const y = layer.apply(xx, { training: true }) as tf.Tensor;
        const dx = tf.grad(loss)(xx);
        const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
        const { grads } = tf.variableGrads(() => loss(xx), [gamma, beta]);
        // Three training calls so far, each moving the statistics toward the batch's.
        return [y, dx, grads[gamma.name], grads[beta.name], ...layer.getWeights().slice(2)];
      });
      cpu.forEach((reference, i) => expect(relativeError(wasm[i], reference), `output ${i}`).toBeLessThan(TOLERANCE));
      tf.dispose([x, w, ...gammaBeta]);
    });
  }
});

describe('a training step of a real network', () => {
  it('computes no gradient for the input image, and gives the same gradients as cpu', async () => {
    const x = random([2, 12, 12, 1], 11);
    const target = tf.oneHot([1, 5], 8).toFloat();
    // Our networks' pattern (conv without bias, batch norm, ReLU, pool), small enough for the cpu backend.
    const build = () => {
      const init = (seed: number) => tf.initializers.heNormal({ seed });
      return tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }),
        tf.layers.batchNormalization(), tf.layers.reLU(), tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(2) }),
        tf.layers.batchNormalization(), tf.layers.reLU(), tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(), tf.layers.dense({ units: 8, kernelInitializer: init(3) }),
      ] });
    };
    const grads = () => {
      const model = build();
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      const out = vars.map((v) => g[v.name].dataSync().slice());
      tf.dispose(Object.values(g));
      model.dispose();
      return out;
    };
    await tf.setBackend('cpu');
    const reference = grads();
    await tf.setBackend('wasm');
    const profile = await tf.profile(() => { grads(); });
    const ours = grads();
    // the second convolution's input gradient, not the first's (the image)
    expect(profile.kernels.filter((k) => k.name === 'Conv2DBackpropInput')).toHaveLength(1);
    expect(profile.kernels.filter((k) => k.name === 'Conv2DBackpropFilter')).toHaveLength(2);
    ours.forEach((g, i) => expect(relativeError(g as Float32Array, reference[i] as Float32Array), `weight ${i}`).toBeLessThan(TOLERANCE));
  });
});

describe('depthwise convolution gradients (the wasm backend has no kernels of its own)', () => {
  type Shape4 = [number, number, number, number];
  type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  const cases: [string, Shape4, Shape4, number | [number, number], Pad][] = [
    ['3x3 same stride 1, 8 channels', [2, 7, 9, 8], [3, 3, 8, 1], 1, 'same'],
    ['3x3 valid stride 2, odd sizes, 5 channels', [2, 9, 7, 5], [3, 3, 5, 1], 2, 'valid'],
    ['3x3 same stride 2, even sizes', [3, 8, 10, 12], [3, 3, 12, 1], 2, 'same'],
    ['batch 1, 1 channel', [1, 11, 9, 1], [3, 3, 1, 1], 1, 'same'],
    ['multiplier 2, 3 channels', [2, 7, 7, 3], [3, 3, 3, 2], 1, 'same'],
    ['multiplier 2, stride 2 valid, odd width', [1, 9, 7, 4], [3, 3, 4, 2], 2, 'valid'],
    ['5x5 same stride 2, 6 channels', [2, 11, 9, 6], [5, 5, 6, 1], 2, 'same'],
    ['explicit padding, strides 2 by 1', [2, 8, 7, 4], [3, 3, 4, 1], [2, 1], [[0, 0], [1, 2], [2, 0], [0, 0]]],
  ];
  for (const [name, xShape, fShape, stride, pad] of cases) {
    it(`${name}: tf.grad of depthwiseConv2d matches cpu`, async () => {
      const x = random(xShape, 31);
      const w = random(fShape, 32);
      const dy = random(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad).shape, 33);
      const before = [kernelCounts.ours.DepthwiseConv2dNativeBackpropInput ?? 0, kernelCounts.ours.DepthwiseConv2dNativeBackpropFilter ?? 0];
      const { cpu, wasm } = await onBothBackends([x, w, dy], (xx, ww, dd) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dd)))([xx, ww]));
      expect(relativeError(wasm[0], cpu[0]), 'dx').toBeLessThan(TOLERANCE);
      expect(relativeError(wasm[1], cpu[1]), 'dw').toBeLessThan(TOLERANCE);
      expect([kernelCounts.ours.DepthwiseConv2dNativeBackpropInput, kernelCounts.ours.DepthwiseConv2dNativeBackpropFilter]).toEqual(before.map((n) => n + 1));
      tf.dispose([x, w, dy]);
    });
  }

  /** The filter with zeros written between its taps: the dilated convolution's plain twin. */
  function writtenOut(w: tf.Tensor, d: number): tf.Tensor {
    const [KH, KW, C, M] = w.shape;
    const dense = tf.buffer([(KH - 1) * d + 1, (KW - 1) * d + 1, C, M]);
    const source = w.bufferSync();
    for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) for (let c = 0; c < C; c++) for (let q = 0; q < M; q++) dense.set(source.get(i, j, c, q), i * d, j * d, c, q);
    return dense.toTensor();
  }

  // tfjs refuses the gradient of a dilated depthwise convolution and its cpu kernels ignore the
  // dilation, so the reference is the cpu's plain kernels on the written-out filter.
  const dilated: [string, number, 'same' | 'valid', boolean][] = [
    ['dilation 2, stride 1, same', 1, 'same', false],
    ['dilation 2, stride 2, valid (dx through the written-out filter, counted)', 2, 'valid', true],
  ];
  for (const [name, stride, pad, inputFallback] of dilated) {
    it(`${name}: both kernels match the plain convolution with the written-out filter`, async () => {
      const xShape = [2, 11, 10, 5];
      const fShape: Shape4 = [3, 3, 5, 2];
      const x = random(xShape, 41);
      const w = random(fShape, 42);
      const dense = writtenOut(w, 2);
      const dy = random(tf.depthwiseConv2d(x as tf.Tensor4D, dense as tf.Tensor4D, stride, pad).shape, 43);
      const fallbacks = kernelCounts.fallback.DepthwiseConv2dNativeBackpropInput ?? 0;
      const { cpu, wasm } = await onBothBackends([x, w, dense, dy], (xx, ww, dd, gg) => {
        const run = (kernel: string, inputs: Record<string, tf.Tensor>, attrs: object) => tf.engine().runKernel(kernel, inputs as never, attrs as never) as tf.Tensor;
        if (tf.getBackend() === 'cpu') {
          const dw = run('DepthwiseConv2dNativeBackpropFilter', { x: xx, dy: gg }, { strides: stride, pad, dilations: 1, filterShape: dd.shape });
          return [run('DepthwiseConv2dNativeBackpropInput', { dy: gg, filter: dd }, { strides: stride, pad, dilations: 1, inputShape: xShape }),
            tf.stridedSlice(dw, [0, 0, 0, 0], dw.shape, [2, 2, 1, 1])];
        }
        return [run('DepthwiseConv2dNativeBackpropInput', { dy: gg, filter: ww }, { strides: stride, pad, dilations: 2, inputShape: xShape }),
          run('DepthwiseConv2dNativeBackpropFilter', { x: xx, dy: gg }, { strides: stride, pad, dilations: 2, filterShape: fShape })];
      });
      expect(relativeError(wasm[0], cpu[0]), 'dx').toBeLessThan(TOLERANCE);
      expect(relativeError(wasm[1], cpu[1]), 'dw').toBeLessThan(TOLERANCE);
      expect(kernelCounts.fallback.DepthwiseConv2dNativeBackpropInput ?? 0).toBe(fallbacks + (inputFallback ? 1 : 0));
      tf.dispose([x, w, dense, dy]);
    });
  }

  it('NCHW goes through transposes, counted, still right', async () => {
    const x = random([2, 7, 6, 4], 51);
    const w = random([3, 3, 4, 1], 52);
    const dy = random([2, 4, 3, 4], 53);
    const before = [kernelCounts.fallback.DepthwiseConv2dNativeBackpropInput ?? 0, kernelCounts.fallback.DepthwiseConv2dNativeBackpropFilter ?? 0];
    const toNCHW = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]);
    const { cpu, wasm } = await onBothBackends([x, w, dy], (xx, ww, gg) => {
      const attrs = { strides: 2, pad: 'same', dilations: 1 };
      const run = (kernel: string, inputs: Record<string, tf.Tensor>, extra: object) => tf.engine().runKernel(kernel, inputs as never, { ...attrs, ...extra } as never) as tf.Tensor;
      if (tf.getBackend() === 'cpu') {
        return [toNCHW(run('DepthwiseConv2dNativeBackpropInput', { dy: gg, filter: ww }, { inputShape: xx.shape })),
          run('DepthwiseConv2dNativeBackpropFilter', { x: xx, dy: gg }, { filterShape: ww.shape })];
      }
      return [run('DepthwiseConv2dNativeBackpropInput', { dy: toNCHW(gg), filter: ww }, { inputShape: toNCHW(xx).shape, dataFormat: 'NCHW' }),
        run('DepthwiseConv2dNativeBackpropFilter', { x: toNCHW(xx), dy: toNCHW(gg) }, { filterShape: ww.shape, dataFormat: 'NCHW' })];
    });
    expect(relativeError(wasm[0], cpu[0]), 'dx').toBeLessThan(TOLERANCE);
    expect(relativeError(wasm[1], cpu[1]), 'dw').toBeLessThan(TOLERANCE);
    expect([kernelCounts.fallback.DepthwiseConv2dNativeBackpropInput, kernelCounts.fallback.DepthwiseConv2dNativeBackpropFilter]).toEqual(before.map((n) => n + 1));
    tf.dispose([x, w, dy]);
  });

  it('a small depthwise-separable network trains a step on wasm: same gradients and weights as cpu', async () => {
    const x = random([3, 13, 13, 1], 61);
    const target = tf.oneHot([1, 5, 7], 8).toFloat();
    const build = () => {
      const init = (seed: number) => tf.initializers.heNormal({ seed });
      return tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [13, 13, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }),
        tf.layers.batchNormalization(), tf.layers.reLU(),
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, depthwiseInitializer: init(2) }),
        tf.layers.batchNormalization(), tf.layers.reLU(),
        tf.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false, kernelInitializer: init(3) }),
        tf.layers.batchNormalization(), tf.layers.reLU(),
        tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', depthwiseInitializer: init(4) }),
        tf.layers.reLU(), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 8, kernelInitializer: init(5) }),
      ] });
    };
    const step = () => {
      const model = build();
      const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
      const loss = () => tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      const { grads } = tf.variableGrads(loss, vars);
      const gradients = vars.map((v) => grads[v.name].dataSync().slice() as Float32Array);
      const optimizer = tf.train.sgd(0.1);
      optimizer.applyGradients(grads);
      const weights = vars.map((v) => v.dataSync().slice() as Float32Array);
      tf.dispose(Object.values(grads));
      optimizer.dispose();
      model.dispose();
      return { gradients, weights };
    };
    await tf.setBackend('cpu');
    const reference = step();
    await tf.setBackend('wasm');
    const before = [kernelCounts.ours.DepthwiseConv2dNativeBackpropInput ?? 0, kernelCounts.ours.DepthwiseConv2dNativeBackpropFilter ?? 0];
    const ours = step();
    // Both depthwise layers' filters; the input gradient of both (neither sees the image).
    expect([kernelCounts.ours.DepthwiseConv2dNativeBackpropInput, kernelCounts.ours.DepthwiseConv2dNativeBackpropFilter]).toEqual([before[0] + 2, before[1] + 2]);
    ours.gradients.forEach((g, i) => expect(relativeError(g, reference.gradients[i]), `gradient ${i}`).toBeLessThan(TOLERANCE));
    ours.weights.forEach((w, i) => expect(relativeError(w, reference.weights[i]), `weight ${i}`).toBeLessThan(TOLERANCE));
  });
});

describe('Adam', () => {
  it('three steps give the same weights and moments as cpu, in one kernel per variable', async () => {
    const w0 = random([5, 7], 21);
    const grads = [random([5, 7], 22), random([5, 7], 23), random([5, 7], 24)];
    const before = kernelCounts.ours.Adam ?? 0;
    const { cpu, wasm } = await onBothBackends([w0, ...grads], (w, ...g) => {
      const v = tf.variable(w, true, `adam-parity-${tf.getBackend()}`);
      const optimizer = tf.train.adam(0.01);
      for (const gradient of g) optimizer.applyGradients([{ name: v.name, tensor: gradient }]);
      optimizer.dispose();
      return [v];
    });
    expect(relativeError(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(kernelCounts.ours.Adam).toBe(before + 3);
  });
});

describe('the committed kernel binary', () => {
  const dir = join(KERNELS_WASM, '..');
  const build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as { sourceSha256: string; wasmSha256: string; compiler: string };
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('was built from the committed source (npm run build:kernels records both hashes)', () => {
    expect(sha(join(dir, 'training-kernels.c')), 'source changed without npm run build:kernels').toBe(build.sourceSha256);
    expect(sha(KERNELS_WASM), 'binary differs from the one built from the source').toBe(build.wasmSha256);
  });

  const clang = (() => { try { return execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0]; } catch { return null; } })();
  it.skipIf(clang !== build.compiler)(`rebuilds to the same bytes (needs ${build.compiler})`, () => {
    const work = mkdtempSync(join(tmpdir(), 'halfface-kernels-'));
    for (const f of ['build.sh', 'training-kernels.c']) copyFileSync(join(dir, f), join(work, f));
    execFileSync('bash', [join(work, 'build.sh')], { stdio: 'pipe' });
    expect(existsSync(join(work, 'training-kernels.wasm'))).toBe(true);
    expect(sha(join(work, 'training-kernels.wasm'))).toBe(build.wasmSha256);
  });
});
