/**
 * npm run bench:train [-- --json FILE] — images/second of one training step (forward, backward,
 * Adam update, batch 64) on the wasm backend: the student network with the stock kernels and with
 * ours (tools/backend/training-kernels.ts), and the teacher network with ours, in alternating
 * rounds so that whatever else the machine does falls on both alike. Each measurement runs in its
 * own child process: a backend's thread pool and kernel set are fixed when it starts.
 * --parallel also times two 1-thread runs side by side against one 2-thread run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { kernelCounts } from '../backend/training-kernels.js';
import { buildModel, parseArchitecture, type ArchitectureName } from '../model/architectures.js';
import { crossEntropy } from '../train/losses.js';
import { runCli } from './run-cli.js';

type Kernels = 'ours' | 'stock';
interface Row { architecture: ArchitectureName; kernels: Kernels; threads: number; batch: number; imagesPerSecond: number; fallbacks: number }
interface Measurement { architecture: ArchitectureName; kernels: Kernels; threads: number }

async function measure(name: ArchitectureName, batchSize: number, steps: number): Promise<number> {
  const model = buildModel(name);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batchSize, 48, 48, 1]) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([batchSize], 0, 8, 'int32') as tf.Tensor1D, 8).toFloat() as tf.Tensor2D;
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = async () => {
    const loss = optimizer.minimize(() => crossEntropy(y, (model.apply(x, { training: true }) as tf.Tensor[])[1] as tf.Tensor2D), true, trainable)!;
    await loss.data();
    loss.dispose();
  };
  await step(); // warm-up: kernel set-up and first allocations
  await step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - t0) / 1000;
  [model, optimizer, x, y].forEach((t) => t.dispose());
  return (steps * batchSize) / seconds;
}

const program = new Command()
  .name('bench:train')
  .option('--row <architecture:kernels:threads>', 'internal: measure one configuration in this process')
  .option('--steps <n>', 'timed steps per measurement', Number, 6)
  .option('--batch <n>', 'batch size', Number, 64)
  .option('--rounds <n>', 'alternating rounds (each measures every configuration once)', Number, 3)
  .option('--threads <n>', 'wasm threads (default: one per core)', Number, cpus().length)
  .option('--parallel', 'also: two 1-thread runs at once vs one 2-thread run (student, our kernels)')
  .option('--json <file>', 'write {rows, speedup} here');

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function rowArgs(m: Measurement, o: { steps: number; batch: number }): string[] {
  return [...process.execArgv, process.argv[1], '--row', `${m.architecture}:${m.kernels}:${m.threads}`, '--steps', String(o.steps), '--batch', String(o.batch)];
}

function parseRow(out: string): Row {
  const line = out.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`a measurement printed no result:\n${out}`);
  return JSON.parse(line.slice(4)) as Row;
}

/** Runs several measurements at the same time (for the threads-vs-runs comparison). */
function runTogether(ms: Measurement[], o: { steps: number; batch: number }): Promise<Row[]> {
  return Promise.all(ms.map((m) => new Promise<Row>((resolve, reject) => {
    const child = spawn(process.execPath, rowArgs(m, o), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => (code === 0 ? resolve(parseRow(out)) : reject(new Error(`measurement exited with ${code}`))));
  })));
}

runCli(async () => {
  program.parse();
  const o = program.opts() as { row?: string; steps: number; batch: number; rounds: number; threads: number; parallel?: boolean; json?: string };
  if (o.row) {
    const [architecture, kernels, threads] = o.row.split(':');
    if (kernels !== 'ours' && kernels !== 'stock') throw new Error(`kernels must be ours or stock, not ${kernels}`);
    process.env.HALFFACE_KERNELS = kernels;
    const info = await selectBackend('wasm', Number(threads));
    if (info.name !== 'wasm') throw new Error('the wasm backend did not start');
    const imagesPerSecond = await measure(parseArchitecture(architecture), o.batch, o.steps);
    const fallbacks = Object.values(kernelCounts.fallback).reduce((a, b) => a + b, 0);
    const row: Row = { architecture: parseArchitecture(architecture), kernels, threads: Number(threads), batch: o.batch, imagesPerSecond, fallbacks };
    process.stdout.write(`ROW ${JSON.stringify(row)}\n`);
    return;
  }
  const configs: Measurement[] = [
    { architecture: 'student', kernels: 'stock', threads: o.threads },
    { architecture: 'student', kernels: 'ours', threads: o.threads },
    { architecture: 'teacher', kernels: 'ours', threads: o.threads },
  ];
  const samples = new Map<string, Row[]>();
  const key = (m: Measurement) => `${m.architecture}:${m.kernels}:${m.threads}`;
  for (let round = 1; round <= o.rounds; round++) {
    for (const m of configs) {
      process.stderr.write(`round ${round}/${o.rounds}: ${m.architecture}, ${m.kernels} kernels, ${m.threads} threads ... `);
      const row = parseRow(execFileSync(process.execPath, rowArgs(m, o), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
      process.stderr.write(`${row.imagesPerSecond.toFixed(1)} images/s\n`);
      samples.set(key(m), [...(samples.get(key(m)) ?? []), row]);
    }
  }
  const rows: Row[] = configs.map((m) => {
    const all = samples.get(key(m))!;
    return { ...all[0], imagesPerSecond: median(all.map((r) => r.imagesPerSecond)), fallbacks: Math.max(...all.map((r) => r.fallbacks)) };
  });
  // Stock and ours run back to back in each round, so their ratio within a round cancels most of
  // whatever else loads the machine; the median of those paired ratios is the speedup reported.
  const perRound = (k: Kernels) => samples.get(key({ architecture: 'student', kernels: k, threads: o.threads }))!;
  const roundSpeedups = perRound('ours').map((r, i) => r.imagesPerSecond / perRound('stock')[i].imagesPerSecond);
  const speedup = median(roundSpeedups);

  console.log(`\ntraining step, images/s (batch ${o.batch}, median of ${o.rounds} alternating rounds of ${o.steps} steps), wasm, ${cpus().length} cores`);
  console.log('| network | kernels | threads | images/s | fallbacks |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.architecture} | ${r.kernels} | ${r.threads} | ${r.imagesPerSecond.toFixed(1)} | ${r.fallbacks} |`);
  console.log(`\nspeedup (student, ours / stock, ${o.threads} threads): ${speedup.toFixed(2)}x, median of the rounds' paired ratios (${roundSpeedups.map((r) => r.toFixed(2)).join(', ')})`);

  let parallel: { twoRunsOneThread: number; oneRunTwoThreads: number } | undefined;
  if (o.parallel) {
    const twoRuns: number[] = [];
    const oneRun: number[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      process.stderr.write(`round ${round}/${o.rounds}: 2 runs x 1 thread vs 1 run x 2 threads ... `);
      const pair = await runTogether([0, 1].map(() => ({ architecture: 'student' as const, kernels: 'ours' as const, threads: 1 })), o);
      twoRuns.push(pair[0].imagesPerSecond + pair[1].imagesPerSecond);
      oneRun.push((await runTogether([{ architecture: 'student', kernels: 'ours', threads: 2 }], o))[0].imagesPerSecond);
      process.stderr.write(`${twoRuns.at(-1)!.toFixed(1)} vs ${oneRun.at(-1)!.toFixed(1)} images/s\n`);
    }
    parallel = { twoRunsOneThread: median(twoRuns), oneRunTwoThreads: median(oneRun) };
    console.log(`2 runs x 1 thread: ${parallel.twoRunsOneThread.toFixed(1)} images/s in all; 1 run x 2 threads: ${parallel.oneRunTwoThreads.toFixed(1)}`);
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ rows, speedup, roundSpeedups, parallel }, null, 2)}\n`);
});
