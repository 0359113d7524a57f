/**
 * Runs one compiled training kernel on several threads at once: Node worker threads, each with its
 * own instance of the kernel module on the same shared wasm memory, woken through Atomics. Every
 * kernel takes the range of rows or tiles it works on as its last two arguments; the caller splits
 * the range, this file only hands the parts out and waits for them.
 */
import { Worker } from 'node:worker_threads';

/** Control block: [generation, finished count, function index, argument count], then arguments. */
const HEADER = 4;
const MAX_ARGS = 24;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, module, control, names, index } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const header = new Int32Array(control, 0, ${HEADER});
const args = new Float64Array(control, ${HEADER * 4}, ${MAX_ARGS} * workerData.threads);
let seen = 0;
for (;;) {
  Atomics.wait(header, 0, seen);
  seen = Atomics.load(header, 0);
  const count = header[3];
  const mine = Array.from(args.subarray(index * ${MAX_ARGS}, index * ${MAX_ARGS} + count));
  try { kernels[names[header[2]]](...mine); } finally {
    Atomics.add(header, 1, 1);
    Atomics.notify(header, 1);
  }
}`;

export interface KernelThreads {
  /** Calls kernel `name` once per part, part 0 on this thread: each part is its full argument list. */
  run(name: string, parts: number[][]): void;
  readonly threads: number;
}

export function startKernelThreads(module: WebAssembly.Module, memory: WebAssembly.Memory, local: Record<string, (...a: number[]) => void>, threads: number): KernelThreads {
  const names = Object.keys(local);
  const helpers = threads - 1;
  const control = new SharedArrayBuffer(HEADER * 4 + MAX_ARGS * 8 * threads);
  const header = new Int32Array(control, 0, HEADER);
  const args = new Float64Array(control, HEADER * 4, MAX_ARGS * threads);
  for (let i = 0; i < helpers; i++) {
    // unref: an idle helper never keeps the process alive.
    new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, module, control, names, index: i + 1, threads } }).unref();
  }
  return {
    threads,
    run(name, parts) {
      if (parts.length === 1 || helpers === 0) {
        for (const p of parts) local[name](...p);
        return;
      }
      // Every helper wakes and reads its own slot: a call fills all of them (splitRange does).
      if (parts.length !== threads) throw new Error(`kernel threads: ${parts.length} parts for ${threads} threads`);
      parts.forEach((p, i) => {
        if (p.length > MAX_ARGS) throw new Error(`kernel threads: ${name} takes more than ${MAX_ARGS} arguments`);
        args.set(p, i * MAX_ARGS);
      });
      header[1] = 0;
      header[2] = names.indexOf(name);
      header[3] = parts[0].length;
      Atomics.add(header, 0, 1);
      Atomics.notify(header, 0);
      local[name](...parts[0]);
      for (;;) {
        const finished = Atomics.load(header, 1);
        if (finished >= helpers) break;
        Atomics.wait(header, 1, finished);
      }
    },
  };
}

/** Splits [0, total) into `parts` contiguous ranges whose bounds are multiples of `step`. */
export function splitRange(total: number, parts: number, step = 1): [number, number][] {
  const units = Math.ceil(total / step);
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const begin = Math.min(total, Math.round((units * i) / parts) * step);
    const end = Math.min(total, Math.round((units * (i + 1)) / parts) * step);
    out.push([begin, end]);
  }
  return out;
}
