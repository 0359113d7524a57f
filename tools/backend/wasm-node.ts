/**
 * The tfjs wasm backend, made fit for training in Node.
 *
 * Stock @tensorflow/tfjs-backend-wasm 4.22 in Node (a) refuses threads, (b) has no
 * Conv2DBackpropFilter kernel at all, (c) has a naive Conv2DBackpropInput loop, and (d) runs
 * BatchMatMul with transposed operands 10-25x slower than with plain ones. Every fix below is
 * built from kernels that the backend already has (XNNPACK convolutions, transposes), so the
 * maths stays the library's own. The versions are pinned in package.json because this reaches
 * into the package's internal files.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { installCompiledKernels, setKernelThreads } from './training-kernels.js';

const require = createRequire(import.meta.url);
type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

/** Emscripten pthreads in Node need real files: worker_threads cannot load blob: URLs. */
function threadedModuleFactory(): (config: object) => Promise<WasmModule> {
  const wasmOut = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));
  const { wasmWorkerContents } = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  const workerDir = join(tmpdir(), 'halfface-tfjs-wasm-4.22.0-v2');
  const workerFile = join(workerDir, 'worker.cjs');
  if (!existsSync(workerFile)) {
    mkdirSync(workerDir, { recursive: true });
    // The contents come from a template literal whose "\n" escapes became real newlines.
    writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  }
  const factory = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js')) as (c: object) => Promise<WasmModule>;
  return (config: object) =>
    factory({
      ...config,
      locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? workerFile : prefix + path),
    });
}

interface WasmModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
}

/**
 * XNNPACK sizes its thread pool from the core count it is told, halved; tell it twice the
 * threads we want while the module starts, then put os.cpus back.
 */
async function createThreadedBackend(threads: number): Promise<tf.KernelBackend> {
  const os = require('node:os') as { cpus: () => unknown[] };
  const realCpus = os.cpus;
  os.cpus = () => new Array(threads * 2).fill(realCpus()[0]);
  let module: WasmModule;
  try {
    module = await threadedModuleFactory()({});
  } finally {
    os.cpus = realCpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return new BackendWasm(module as never);
}

function kernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

/** Keeps the original's setupFunc: it binds the wasm exports that the original kernel calls. */
function replaceKernel(name: string, kernelFunc: KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (original) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc, setupFunc: original?.setupFunc });
}

/** Runs a kernel of the wasm backend directly on backend tensors, inside another kernel. */
function run(backend: object, name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
  return kernel(name)({ inputs: inputs as never, backend, attrs: attrs as never }) as TensorInfo;
}
const free = (backend: object, ...infos: TensorInfo[]) => infos.forEach((t) => (backend as tf.KernelBackend).disposeData(t.dataId));

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}
const pair = (v: number | [number, number] | undefined): [number, number] =>
  v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;

function installTrainingKernels(originalBackpropInput: KernelFunc | undefined, originalMatMul: KernelFunc): void {
  // dW[i,j,ci,co] = sum_{n,y,x} X[n, y*s+i-top, x*s+j-left, ci] * dY[n,y,x,co]: a convolution of
  // X (batch and channels swapped) with dY as the filter, whose dilation is the forward stride.
  replaceKernel('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvAttrs;
    if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: NCHW is not supported');
    const [fh, fw] = a.filterShape!;
    const [sh, sw] = pair(a.strides);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as never, a.filterShape!, [sh, sw], 1, a.pad, a.dimRoundingMode);
    const [, H, W] = x.shape;
    const [, OH, OW] = dy.shape;
    const bottom = Math.max(0, fh + (OH - 1) * sh - H - info.padInfo.top);
    const right = Math.max(0, fw + (OW - 1) * sw - W - info.padInfo.left);
    const xT = run(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] });
    const dyT = run(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const conv = run(backend, 'Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC',
      pad: [[0, 0], [info.padInfo.top, bottom], [info.padInfo.left, right], [0, 0]],
    });
    let out = conv;
    if (conv.shape[1] !== fh || conv.shape[2] !== fw) {
      out = run(backend, 'Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0], fh, fw, conv.shape[3]] });
      free(backend, conv);
    }
    const dW = run(backend, 'Transpose', { x: out }, { perm: [1, 2, 0, 3] });
    free(backend, xT, dyT, out);
    return dW;
  });

  // With stride 1, dX is the "full" convolution of dY with the filter rotated by 180 degrees
  // and its in/out channels swapped: XNNPACK does that far faster than the stock loop.
  replaceKernel('Conv2DBackpropInput', (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvAttrs;
    const [sh, sw] = pair(a.strides);
    if (sh !== 1 || sw !== 1 || a.dataFormat === 'NCHW') {
      if (!originalBackpropInput) throw new Error('Conv2DBackpropInput: only stride 1 NHWC is supported');
      return originalBackpropInput(args);
    }
    const [fh, fw] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape!, filter.shape as never, [1, 1], 1, a.pad, a.dimRoundingMode);
    const rotated = run(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = run(backend, 'Transpose', { x: rotated }, { perm: [0, 1, 3, 2] });
    const dx = run(backend, 'Conv2D', { x: dy, filter: swapped }, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
      pad: [[0, 0], [fh - 1 - info.padInfo.top, fh - 1 - info.padInfo.bottom],
        [fw - 1 - info.padInfo.left, fw - 1 - info.padInfo.right], [0, 0]],
    });
    free(backend, rotated, swapped);
    return dx;
  });

  replaceKernel('BatchMatMul', ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return originalMatMul({ inputs, backend, attrs });
    const perm = (t: TensorInfo) => [...t.shape.slice(0, -2).map((_, i) => i), t.shape.length - 1, t.shape.length - 2];
    const aa = transposeA ? run(backend, 'Transpose', { x: a }, { perm: perm(a) }) : a;
    const bb = transposeB ? run(backend, 'Transpose', { x: b }, { perm: perm(b) }) : b;
    const out = originalMatMul({ inputs: { a: aa, b: bb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } as never });
    if (transposeA) free(backend, aa);
    if (transposeB) free(backend, bb);
    return out;
  });
}

/**
 * tfjs's own FusedBatchNorm gradient tiles the per-channel scale up to the whole activation
 * before multiplying; the wasm Tile kernel made that 40% of a training step. Broadcasting gives
 * the same numbers without the tile. Registered globally: the maths is identical on every backend.
 */
function installBatchNormGradient(): void {
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const dyT = dy as tf.Tensor;
      const [x, mean, variance, scale] = saved;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const scaleValue = scale ?? tf.scalar(1);
      const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const reduce = (t: tf.Tensor) => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
      const xMinusMean = tf.sub(x, mean);
      const rsqrtVar = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      const dyTimesScale = tf.mul(dyT, scaleValue);
      const minusHalfRCube = tf.mul(tf.pow(rsqrtVar, 3), tf.scalar(-0.5));
      return {
        x: () => tf.mul(dyT, tf.mul(rsqrtVar, scaleValue)),
        mean: () => reduce(tf.mul(tf.neg(rsqrtVar), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
        scale: () => reduce(tf.mul(dyT, tf.mul(xMinusMean, rsqrtVar))),
        offset: () => reduce(dyT),
      };
    },
  });
}

let installed = false;
let requestedThreads = 1;

/**
 * Which training kernels: "ours" (default) adds the compiled ones of training-kernels.ts on top of
 * "stock", the wasm backend with only the kernels above (built from the backend's own). Set by
 * HALFFACE_KERNELS=stock|ours; benchmarks and parity tests compare the two.
 */
export type KernelSet = 'ours' | 'stock';
export function kernelSetFromEnv(): KernelSet {
  const value = process.env.HALFFACE_KERNELS ?? 'ours';
  if (value !== 'ours' && value !== 'stock') throw new Error(`HALFFACE_KERNELS must be "ours" or "stock", not "${value}"`);
  return value;
}

/**
 * Registers the training-capable wasm backend as 'wasm' and makes it current.
 * threads: XNNPACK threads (default: all cores; the stock default is cores / 2).
 */
export async function useTrainingWasmBackend(threads = cpus().length, kernels: KernelSet = kernelSetFromEnv()): Promise<number> {
  if (!installed) {
    const originalBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc;
    const originalMatMul = kernel('BatchMatMul');
    installTrainingKernels(originalBackpropInput, originalMatMul);
    installBatchNormGradient();
    if (kernels === 'ours') installCompiledKernels();
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', () => createThreadedBackend(requestedThreads), 1);
    installed = true;
  }
  requestedThreads = threads;
  setThreadsCount(threads);
  setKernelThreads(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  return threads;
}
