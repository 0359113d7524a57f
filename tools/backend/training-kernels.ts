/**
 * Our own training kernels for the TensorFlow.js wasm backend in Node (source: kernels/training-kernels.c,
 * rebuilt by `npm run build:kernels`). The module is instantiated on the backend's own memory, so a
 * kernel reads and writes tensors in place by address, with no copies:
 * - batch norm in training mode as one forward and one backward kernel per layer, per channel on
 *   NHWC (stock tfjs runs ~20 small ops a layer, and its reductions transpose the whole tensor);
 * - Conv2DBackpropFilter as a register-tiled loop over the padded input (no transposes);
 * - MaxPoolGrad straight from the input's window maxima;
 * - DepthwiseConv2dNativeBackpropInput and ...BackpropFilter, which the wasm backend lacks (so a
 *   depthwise network could not train on it at all), vectorised over channels on NHWC;
 * - no gradient for a network's input image (see installConvLayer);
 * - Identity (which tfjs runs on every tensor a gradient saves) shares the data, as the cpu and
 *   webgl backends do, instead of copying it.
 * A configuration a kernel does not handle goes to the kernel it replaced (the depthwise ones
 * replace none: to a slower route through their own), and is counted.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitRange, startKernelThreads, type KernelThreads } from './kernel-threads.js';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelConfig['kernelFunc'];

export const KERNELS_WASM = fileURLToPath(new URL('./kernels/training-kernels.wasm', import.meta.url));

interface Exports {
  channel_sum(x: number, p0: number, p1: number, C: number, out: number, block: number, accumulate: number): void;
  channel_centered_dot(x: number, mean: number, y: number, p0: number, p1: number, C: number, out: number, block: number, accumulate: number): void;
  channel_affine(x: number, mean: number, a: number, y: number, b: number, shift: number, out: number, p0: number, p1: number, C: number): void;
  maxpool_grad(x: number, dy: number, dx: number, H: number, W: number, C: number, OH: number, OW: number, fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, r0: number, r1: number): void;
  maxpool_grad_tiled(x: number, dy: number, dx: number, H: number, W: number, C: number, OH: number, OW: number, f: number, r0: number, r1: number): void;
  fill_zero(out: number, begin: number, end: number): void;
  relu_grad(x: number, dy: number, dx: number, begin: number, end: number): void;
  adam_update(w: number, g: number, m: number, v: number, w2: number, m2: number, v2: number,
    b1: number, ob1: number, b2: number, ob2: number, c1: number, c2: number, negLr: number, eps: number, begin: number, end: number): void;
  pad_rows(x: number, xp: number, H: number, W: number, C: number, Hp: number, Wp: number, pt: number, pl: number, r0: number, r1: number): void;
  conv_backprop_filter(xp: number, dy: number, dw: number, N: number, Hp: number, Wp: number, Ci: number, OH: number, OW: number, Co: number,
    KW: number, sh: number, sw: number, dh: number, dw_: number, k0: number, k1: number): void;
  depthwise_backprop_input(dy: number, w: number, dx: number, H: number, W: number, C: number, M: number, OH: number, OW: number, KH: number, KW: number,
    sh: number, sw: number, dh: number, dw_: number, pt: number, pl: number, r0: number, r1: number): void;
  depthwise_backprop_filter(x: number, dy: number, dw: number, N: number, H: number, W: number, C: number, M: number, OH: number, OW: number,
    KW: number, sh: number, sw: number, dh: number, dw_: number, pt: number, pl: number, u0: number, u1: number): void;
}

/** What the wasm backend object offers that we use (its public class hides these fields). */
interface WasmBackendInternals extends tf.KernelBackend {
  wasm: { wasmMemory: WebAssembly.Memory; HEAPF32: Float32Array; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

/** Calls handled by our kernels and calls sent to the kernel they replaced, per kernel name. */
export const kernelCounts = { ours: {} as Record<string, number>, fallback: {} as Record<string, number> };
const count = (table: Record<string, number>, name: string) => { table[name] = (table[name] ?? 0) + 1; };

let exports: Exports | null = null;
let pool: KernelThreads | null = null;
let threadCount = 1;
let scratch = { ptr: 0, bytes: 0 };

/** Threads our kernels use (set with the backend's own thread count, before its first kernel). */
export function setKernelThreads(threads: number): void {
  threadCount = Math.max(1, threads);
}

function kernelsFor(backend: WasmBackendInternals): Exports {
  if (!exports) {
    const module = new WebAssembly.Module(readFileSync(KERNELS_WASM));
    const memory = backend.wasm.wasmMemory;
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
    pool = startKernelThreads(module, memory, exports as unknown as Record<string, (...a: number[]) => void>, threadCount);
  }
  return exports;
}

/** Runs kernel `name` on every thread, each on its own part of [0, total) (bounds multiples of step). */
function parallel(name: keyof Exports, total: number, step: number, args: (begin: number, end: number, thread: number) => number[]): void {
  const parts = splitRange(total, pool!.threads, step).map(([b, e], t) => args(b, e, t));
  pool!.run(name, parts);
}

const address = (backend: WasmBackendInternals, t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;

/** A block of the backend's heap for per-channel coefficients and padded inputs, grown on demand. */
function scratchBytes(backend: WasmBackendInternals, bytes: number): number {
  if (scratch.bytes < bytes) {
    if (scratch.ptr) backend.wasm._free(scratch.ptr);
    scratch = { ptr: backend.wasm._malloc(bytes), bytes };
    if (!scratch.ptr) throw new Error(`training kernels: out of wasm memory (${bytes} bytes)`);
  }
  return scratch.ptr;
}

const rowsOf = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);

/**
 * Batch norm forward in training mode: y = gamma * (x - mean) / sqrt(var + eps) + beta with the
 * batch's own mean and (biased) variance, which are outputs too (the layer updates its moving
 * averages with them). Same maths as tfjs-layers' moments + batchNorm.
 */
const batchNormTrain: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as WasmBackendInternals;
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const { epsilon } = attrs as unknown as { epsilon: number };
  kernelsFor(backend);
  const C = x.shape[x.shape.length - 1];
  const P = rowsOf(x.shape);
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([C], 'float32');
  const variance = backend.makeOutput([C], 'float32');
  const T = threadCount;
  // Per thread: a partial sum and a block buffer (C floats each); then the scale.
  const work = scratchBytes(backend, 4 * C * (2 * T + 1));
  const partial = (t: number) => work + 4 * C * 2 * t;
  const block = (t: number) => partial(t) + 4 * C;
  const scale = work + 4 * C * 2 * T;
  const [xp, mp, vp] = [x, mean, variance].map((t) => address(backend, t));
  /** Sums the threads' partials per channel into out (divided by P). */
  const reduce = (out: number) => {
    const heap = backend.wasm.HEAPF32;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let t = 0; t < T; t++) sum += heap[partial(t) / 4 + c];
      heap[out / 4 + c] = sum / P;
    }
  };
  parallel('channel_sum', P, 1, (p0, p1, t) => [xp, p0, p1, C, partial(t), block(t), 0]);
  reduce(mp);
  parallel('channel_centered_dot', P, 1, (p0, p1, t) => [xp, mp, 0, p0, p1, C, partial(t), block(t), 0]);
  reduce(vp);
  const heap = backend.wasm.HEAPF32;
  const gOff = address(backend, gamma) / 4;
  for (let c = 0; c < C; c++) heap[scale / 4 + c] = heap[gOff + c] / Math.sqrt(heap[vp / 4 + c] + epsilon);
  const bp = address(backend, beta);
  const yp = address(backend, y);
  parallel('channel_affine', P, 1, (p0, p1) => [xp, mp, scale, 0, 0, bp, yp, p0, p1, C]);
  count(kernelCounts.ours, 'BatchNormTrain');
  return [y, mean, variance];
};

/**
 * Its gradient, with mean and variance functions of x: with xc = x - mean, s = 1 / sqrt(var + eps),
 * dbeta = sum dy, dgamma = s * sum dy * xc, and
 * dx = gamma * s * dy - gamma * s^3 * xc * (sum dy * xc) / P - gamma * s * (sum dy) / P.
 */
const batchNormTrainGrad: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as WasmBackendInternals;
  const { dy, x, mean, variance, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo>;
  const { epsilon } = attrs as unknown as { epsilon: number };
  kernelsFor(backend);
  const C = x.shape[x.shape.length - 1];
  const P = rowsOf(x.shape);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dgamma = backend.makeOutput([C], 'float32');
  const dbeta = backend.makeOutput([C], 'float32');
  const T = threadCount;
  // Per thread: two partial sums and a block buffer; then the three coefficients.
  const work = scratchBytes(backend, 4 * C * (3 * T + 3));
  const sums = (t: number, which: 0 | 1) => work + 4 * C * (3 * t + which);
  const block = (t: number) => work + 4 * C * (3 * t + 2);
  const [a, bCoef, shift] = [0, 1, 2].map((i) => work + 4 * C * (3 * T + i));
  const [dyp, xp, mp, dgp, dbp, dxp] = [dy, x, mean, dgamma, dbeta, dx].map((t) => address(backend, t));
  parallel('channel_sum', P, 1, (p0, p1, t) => [dyp, p0, p1, C, sums(t, 0), block(t), 0]);
  parallel('channel_centered_dot', P, 1, (p0, p1, t) => [xp, mp, dyp, p0, p1, C, sums(t, 1), block(t), 0]);
  const heap = backend.wasm.HEAPF32;
  const vOff = address(backend, variance) / 4;
  const gOff = address(backend, gamma) / 4;
  for (let c = 0; c < C; c++) {
    let sumDy = 0;
    let sumDyXc = 0;
    for (let t = 0; t < T; t++) {
      sumDy += heap[sums(t, 0) / 4 + c];
      sumDyXc += heap[sums(t, 1) / 4 + c];
    }
    const s = 1 / Math.sqrt(heap[vOff + c] + epsilon);
    const g = heap[gOff + c];
    heap[bCoef / 4 + c] = g * s;
    heap[a / 4 + c] = (-g * s * s * s * sumDyXc) / P;
    heap[shift / 4 + c] = (-g * s * sumDy) / P;
    heap[dbp / 4 + c] = sumDy;
    heap[dgp / 4 + c] = s * sumDyXc;
  }
  parallel('channel_affine', P, 1, (p0, p1) => [xp, mp, a, dyp, bCoef, shift, dxp, p0, p1, C]);
  count(kernelCounts.ours, 'BatchNormTrainGrad');
  return [dx, dgamma, dbeta];
};

export const BATCH_NORM_TRAIN = 'HalffaceBatchNormTrain';
const BATCH_NORM_TRAIN_GRAD = 'HalffaceBatchNormTrainGrad';

/** y, batch mean and batch variance of a training-mode batch norm over the last axis. */
export function batchNormInTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta } as never, { epsilon } as never) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

function poolGrad(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackendInternals;
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (info.dataFormat !== 'channelsLast') {
      count(kernelCounts.fallback, 'MaxPoolGrad');
      return fallback(args);
    }
    const k = kernelsFor(backend);
    const dx = backend.makeOutput(input.shape, 'float32');
    const [xp, dyp, dxp] = [input, dy, dx].map((t) => address(backend, t));
    const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
    const rows = info.batchSize * OH;
    // Tiled: the windows cover the input exactly (a padded or cropped edge goes the general way).
    const tiled = fh === fw && sh === fh && sw === fw && OH * fh === H && OW * fw === W && info.padInfo.top === 0 && info.padInfo.left === 0 && C % 4 === 0;
    if (tiled) parallel('maxpool_grad_tiled', rows, 1, (r0, r1) => [xp, dyp, dxp, H, W, C, OH, OW, fh, r0, r1]);
    else {
      // Overlapping windows add into shared inputs: one thread.
      k.fill_zero(dxp, 0, rowsOf(input.shape) * C);
      k.maxpool_grad(xp, dyp, dxp, H, W, C, OH, OW, fh, fw, sh, sw, info.padInfo.top, info.padInfo.left, 0, rows);
    }
    count(kernelCounts.ours, 'MaxPoolGrad');
    return dx;
  };
}

function filterGrad(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackendInternals;
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, a.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast');
    const Co = info.outChannels;
    if (a.dataFormat === 'NCHW' || Co % 8 !== 0) {
      count(kernelCounts.fallback, 'Conv2DBackpropFilter');
      return fallback(args);
    }
    kernelsFor(backend);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    const Hp = Math.max(top + H, (OH - 1) * sh + KH);
    const Wp = Math.max(left + W, (OW - 1) * sw + KW);
    const dw = backend.makeOutput(a.filterShape, 'float32');
    let xp = address(backend, x);
    if (Hp !== H || Wp !== W || top !== 0 || left !== 0) {
      const elements = N * Hp * Wp * Ci;
      const padded = scratchBytes(backend, 4 * elements);
      const source = address(backend, x);
      parallel('fill_zero', elements, 4, (b, e) => [padded, b, e]);
      parallel('pad_rows', N * H, 1, (r0, r1) => [source, padded, H, W, Ci, Hp, Wp, top, left, r0, r1]);
      xp = padded;
    }
    const dyp = address(backend, dy);
    const dwp = address(backend, dw);
    // Threads take disjoint tiles of 4 filter taps (kh, kw, ci): no sums to combine.
    parallel('conv_backprop_filter', KH * KW * Ci, 4, (k0, k1) => [xp, dyp, dwp, N, Hp, Wp, Ci, OH, OW, Co, KW, sh, sw, 1, 1, k0, k1]);
    count(kernelCounts.ours, 'Conv2DBackpropFilter');
    return dw;
  };
}

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** Not in tfjs's attributes for these kernels (its ops only make NHWC), but honoured if present. */
  dataFormat?: 'NHWC' | 'NCHW';
}
type Shape4 = [number, number, number, number];
const DW_INPUT = 'DepthwiseConv2dNativeBackpropInput';
const DW_FILTER = 'DepthwiseConv2dNativeBackpropFilter';

const depthwiseInfo = (inShape: number[], filterShape: number[], a: DepthwiseAttrs) =>
  tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);

function transposed(backend: WasmBackendInternals, x: TensorInfo, perm: number[]): TensorInfo {
  return tf.getKernel('Transpose', 'wasm')!.kernelFunc({ inputs: { x }, backend, attrs: { perm } as never }) as TensorInfo;
}
const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** dx of a depthwise convolution on NHWC, strided or dilated per axis but not both (see the C). */
function depthwiseInputNHWC(backend: WasmBackendInternals, dy: TensorInfo, filter: TensorInfo, inputShape: number[], a: DepthwiseAttrs): TensorInfo {
  const info = depthwiseInfo(inputShape, filter.shape, a);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwl } = info;
  const dx = backend.makeOutput(inputShape, 'float32');
  const [dyp, fp, dxp] = [dy, filter, dx].map((t) => address(backend, t));
  parallel('depthwise_backprop_input', N * H, 1, (r0, r1) =>
    [dyp, fp, dxp, H, W, C, info.outChannels / C, OH, OW, KH, KW, sh, sw, dh, dwl, info.padInfo.top, info.padInfo.left, r0, r1]);
  return dx;
}

/**
 * The same filter with its dilation written out as zeros between the taps: a dilated convolution
 * is the plain one with this filter (same padding, same outputs), so its gradients are too.
 */
function dilatedFilterWrittenOut(backend: WasmBackendInternals, filter: TensorInfo, dh: number, dwl: number): TensorInfo {
  const [KH, KW, C, M] = filter.shape;
  const DW = (KW - 1) * dwl + 1;
  const dense = backend.makeOutput([(KH - 1) * dh + 1, DW, C, M], 'float32');
  const heap = backend.wasm.HEAPF32;
  const src = address(backend, filter) / 4;
  const dst = address(backend, dense) / 4;
  const CM = C * M;
  heap.fill(0, dst, dst + dense.shape.reduce((x, y) => x * y, 1));
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) heap.copyWithin(dst + (kh * dh * DW + kw * dwl) * CM, src + (kh * KW + kw) * CM, src + (kh * KW + kw + 1) * CM);
  }
  return dense;
}

const depthwiseInputGrad: KernelFunc = (args) => {
  const backend = args.backend as WasmBackendInternals;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as DepthwiseAttrs & { inputShape: Shape4 };
  kernelsFor(backend);
  if (a.dataFormat === 'NCHW') {
    const [n, c, h, w] = a.inputShape;
    const dyLast = transposed(backend, dy, TO_NHWC);
    const dxLast = depthwiseInputGrad({ ...args, inputs: { dy: dyLast, filter }, attrs: { ...a, dataFormat: 'NHWC', inputShape: [n, h, w, c] } as never }) as TensorInfo;
    const dx = transposed(backend, dxLast, TO_NCHW);
    backend.disposeData(dyLast.dataId);
    backend.disposeData(dxLast.dataId);
    count(kernelCounts.fallback, DW_INPUT);
    return dx;
  }
  const info = depthwiseInfo(a.inputShape, filter.shape, a);
  if ((info.dilationHeight > 1 && info.strideHeight > 1) || (info.dilationWidth > 1 && info.strideWidth > 1)) {
    const dense = dilatedFilterWrittenOut(backend, filter, info.dilationHeight, info.dilationWidth);
    const dx = depthwiseInputNHWC(backend, dy, dense, a.inputShape, { ...a, dilations: 1 });
    backend.disposeData(dense.dataId);
    count(kernelCounts.fallback, DW_INPUT);
    return dx;
  }
  const dx = depthwiseInputNHWC(backend, dy, filter, a.inputShape, a);
  count(kernelCounts.ours, DW_INPUT);
  return dx;
};

/** The filter kernel takes any strides and dilations: only NCHW goes through transposes. */
const depthwiseFilterGrad: KernelFunc = (args) => {
  const backend = args.backend as WasmBackendInternals;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const a = args.attrs as unknown as DepthwiseAttrs & { filterShape: Shape4 };
  kernelsFor(backend);
  if (a.dataFormat === 'NCHW') {
    const [xLast, dyLast] = [x, dy].map((t) => transposed(backend, t, TO_NHWC));
    const dw = depthwiseFilterGrad({ ...args, inputs: { x: xLast, dy: dyLast }, attrs: { ...a, dataFormat: 'NHWC' } as never }) as TensorInfo;
    backend.disposeData(xLast.dataId);
    backend.disposeData(dyLast.dataId);
    count(kernelCounts.fallback, DW_FILTER);
    return dw;
  }
  const info = depthwiseInfo(x.shape, a.filterShape, a);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outChannels: Co, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const dw = backend.makeOutput(a.filterShape, 'float32');
  const [xp, dyp, dwp] = [x, dy, dw].map((t) => address(backend, t));
  // Units of one tap by four channels: threads share even a 3x3 filter on a few channels.
  parallel('depthwise_backprop_filter', KH * KW * Math.ceil(Co / 4), 1, (u0, u1) =>
    [xp, dyp, dwp, N, H, W, C, Co / C, OH, OW, KW, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left, u0, u1]);
  count(kernelCounts.ours, DW_FILTER);
  return dw;
};

/** Adds a kernel the wasm backend lacks (or replaces one, should a later tfjs bring its own). */
function addKernel(name: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

interface ConvLayer {
  rank: number;
  bias: tf.LayerVariable | null;
  kernel: tf.LayerVariable;
  activation: { getClassName(): string } | null;
  dataFormat: string;
  strides: number[];
  padding: 'same' | 'valid' | 'causal';
  dilationRate: number | number[];
}

/**
 * Sends Conv2D layers without bias or activation (ours: conv, then batch norm) to the plain conv2d
 * op instead of tfjs-layers' fused one: the fused op's gradient computes the input's gradient
 * eagerly, also for the network's input image, where nothing uses it; the plain op's gradient is
 * lazy, and the tape never asks for that one. Same XNNPACK convolution forward.
 */
function installConvLayer(): void {
  const proto = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor };
  const stockCall = Object.getPrototypeOf(proto).call as typeof proto.call;
  proto.call = function (this: ConvLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const dilation = typeof this.dilationRate === 'number' ? [this.dilationRate] : this.dilationRate;
    const plain = this.rank === 2 && this.bias === null && this.dataFormat === 'channelsLast' && this.padding !== 'causal'
      && dilation.every((d) => d === 1) && (!this.activation || this.activation.getClassName().toLowerCase() === 'linear');
    if (!plain || tf.getBackend() !== 'wasm') return stockCall.call(this, inputs, kwargs);
    return tf.tidy(() => tf.conv2d(input as tf.Tensor4D, this.kernel.read() as tf.Tensor4D, this.strides as [number, number], this.padding as 'same' | 'valid'));
  };
}

function replaceKernel(name: string, make: (fallback: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) throw new Error(`the wasm backend has no ${name} kernel to replace`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(original.kernelFunc), setupFunc: original.setupFunc });
}

interface BatchNormLayer {
  axis: number | number[];
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/**
 * Sends every BatchNormalization layer's training-mode call on a 4-d NHWC input to our two kernels,
 * keeping the layer's moving-average update exactly as tfjs-layers writes it. Inference, and any
 * other configuration, runs the layer's own code.
 */
function installBatchNormLayer(): void {
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor };
  const stockCall = proto.call;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = this.axis === -1 || this.axis === input.rank - 1;
    if (!kwargs?.training || tf.getBackend() !== 'wasm' || !lastAxis || !this.center || !this.scale) return stockCall.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormInTraining(input, this.gamma.read(), this.beta.read(), this.epsilon);
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const original = variable.read();
          variable.write(tf.sub(original, tf.mul(tf.sub(original, value), 1 - this.momentum)));
        });
      }
      return y;
    });
  };
}

const RELU_GRAD = 'HalffaceReluGrad';

const reluGrad: KernelFunc = ({ inputs, backend: b }) => {
  const backend = b as WasmBackendInternals;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  kernelsFor(backend);
  const dx = backend.makeOutput(x.shape, 'float32');
  const [xp, dyp, dxp] = [x, dy, dx].map((t) => address(backend, t));
  parallel('relu_grad', x.shape.reduce((a, b) => a * b, 1), 4, (b0, b1) => [xp, dyp, dxp, b0, b1]);
  count(kernelCounts.ours, 'ReluGrad');
  return dx;
};

/** ReLU's gradient as one kernel on wasm; tfjs's own formula elsewhere (the registry is global). */
function installReluGradient(): void {
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      return { x: () => (tf.getBackend() === 'wasm' && x.dtype === 'float32' ? tf.engine().runKernel(RELU_GRAD, { x, dy: g } as never) as tf.Tensor : tf.mul(g, tf.cast(tf.step(x), 'float32'))) };
    },
  });
}

const ADAM = 'HalffaceAdam';

/** One variable's Adam step: new value, first and second moment, from the old ones and the gradient. */
const adamStep: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as WasmBackendInternals;
  const { value, gradient, m, v } = inputs as Record<'value' | 'gradient' | 'm' | 'v', TensorInfo>;
  const a = attrs as unknown as { beta1: number; beta2: number; c1: number; c2: number; learningRate: number; epsilon: number };
  kernelsFor(backend);
  const outs = [0, 1, 2].map(() => backend.makeOutput(value.shape, 'float32'));
  const [wp, gp, mp, vp, w2, m2, v2] = [value, gradient, m, v, ...outs].map((t) => address(backend, t));
  const size = value.shape.reduce((x, y) => x * y, 1);
  parallel('adam_update', size, 4, (b0, b1) => [wp, gp, mp, vp, w2, m2, v2, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.c1, a.c2, -a.learningRate, a.epsilon, b0, b1]);
  count(kernelCounts.ours, 'Adam');
  return outs;
};

interface AdamInternals {
  beta1: number; beta2: number; epsilon: number; learningRate: number;
  accBeta1: tf.Variable; accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

/**
 * Adam's update as one kernel per variable on wasm instead of ~15 small ops: the same state (moment
 * variables under the same names, so checkpoints stay interchangeable) and the same float32 maths.
 */
function installAdam(): void {
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients(g: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void };
  const stock = proto.applyGradients;
  proto.applyGradients = function (this: AdamInternals, variableGradients) {
    if (tf.getBackend() !== 'wasm') return stock.call(this, variableGradients);
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      const c1 = tf.sub(1, this.accBeta1).dataSync()[0];
      const c2 = tf.sub(1, this.accBeta2).dataSync()[0];
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        this.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        this.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = this.accumulatedFirstMoment[i].variable;
        const v = this.accumulatedSecondMoment[i].variable;
        const [newValue, newM, newV] = tf.engine().runKernel(ADAM, { value, gradient, m, v } as never,
          { beta1: this.beta1, beta2: this.beta2, c1, c2, learningRate: this.learningRate, epsilon: this.epsilon } as never) as unknown as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
}

/** No kernel writes into its inputs, so a clone can share the data (refcounted, like Reshape). */
const shareIdentity = (fallback: KernelFunc): KernelFunc => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return fallback(args);
  (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let installed = false;

/** Registers our kernels on the wasm backend (before it is created; once per process). */
export function installCompiledKernels(): void {
  if (installed) return;
  installed = true;
  tf.registerKernel({ kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: batchNormTrain });
  tf.registerKernel({ kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: batchNormTrainGrad });
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, mean, variance] = saved;
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, mean, variance, gamma } as never, attrs as never) as unknown as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
  replaceKernel('MaxPoolGrad', poolGrad);
  replaceKernel('Identity', shareIdentity);
  tf.registerKernel({ kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGrad });
  installReluGradient();
  tf.registerKernel({ kernelName: ADAM, backendName: 'wasm', kernelFunc: adamStep });
  installAdam();
  replaceKernel('Conv2DBackpropFilter', filterGrad);
  addKernel(DW_INPUT, depthwiseInputGrad);
  addKernel(DW_FILTER, depthwiseFilterGrad);
  installConvLayer();
  installBatchNormLayer();
}
