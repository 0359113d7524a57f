/**
 * npm run bench:train — images/second of one training step (forward, backward, Adam update) of the
 * teacher and the student on every backend that works here, side by side, with the pure-JS cpu
 * backend as the reference row. Each backend runs in its own child process: a backend's thread
 * pool is fixed when it starts.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { buildModel, type ArchitectureName } from '../model/architectures.js';
import { crossEntropy } from '../train/losses.js';
import { runCli } from './run-cli.js';

interface Row { backend: string; detail: string; teacher: number; student: number }

async function measure(name: ArchitectureName, batchSize: number, steps: number): Promise<number> {
  const model = buildModel(name);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batchSize, 48, 48, 1]) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([batchSize], 0, 8, 'int32') as tf.Tensor1D, 8).toFloat() as tf.Tensor2D;
  const step = async () => {
    const loss = optimizer.minimize(() => crossEntropy(y, (model.apply(x, { training: true }) as tf.Tensor[])[1] as tf.Tensor2D), true)!;
    await loss.data();
    loss.dispose();
  };
  await step(); // warm-up: kernel set-up and first allocations
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - t0) / 1000;
  [model, optimizer, x, y].forEach((t) => t.dispose());
  return (steps * batchSize) / seconds;
}

const program = new Command()
  .name('bench:train')
  .option('--row <backend:threads>', 'internal: measure one row in this process')
  .option('--steps <n>', 'timed steps per model on the fast backends', Number, 5);

runCli(async () => {
  program.parse();
  const o = program.opts();
  if (o.row) {
    const [backend, threads] = String(o.row).split(':');
    const info = await selectBackend(backend, Number(threads));
    const slow = info.name === 'cpu';
    const batch = slow ? 8 : 32;
    const steps = slow ? 1 : o.steps;
    const row: Row = { backend: `${info.name}${info.name === 'wasm' ? ` (${threads} thread${threads === '1' ? '' : 's'})` : ''}`, detail: info.detail, teacher: await measure('teacher', batch, steps), student: await measure('student', batch, steps) };
    process.stdout.write(`ROW ${JSON.stringify(row)}\n`);
    return;
  }
  const rows: Row[] = [];
  const candidates = ['cpu:1', 'wasm:1', `wasm:${cpus().length}`, 'tensorflow:0', 'tensorflow-gpu:0'];
  for (const c of [...new Set(candidates)]) {
    process.stderr.write(`measuring ${c} ...\n`);
    try {
      const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1], '--row', c, '--steps', String(o.steps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const line = out.split('\n').find((l) => l.startsWith('ROW '));
      if (line) rows.push(JSON.parse(line.slice(4)));
    } catch {
      process.stderr.write(`  ${c}: not available here\n`);
    }
  }
  const ref = rows.find((r) => r.backend === 'cpu');
  console.log(`\ntraining step throughput, images/s (batch 32; cpu: batch 8, one step), ${cpus().length} cores`);
  console.log('| backend | teacher img/s | student img/s | teacher vs cpu | student vs cpu |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const x = (v: number, base?: number) => (base ? `${(v / base).toFixed(1)}x` : '-');
    console.log(`| ${r.backend} | ${r.teacher.toFixed(2)} | ${r.student.toFixed(2)} | ${x(r.teacher, ref?.teacher)} | ${x(r.student, ref?.student)} |`);
  }
  if (ref) {
    const best = rows.reduce((a, b) => (b.student > a.student ? b : a));
    console.log(`\nfastest: ${best.backend}, ${(best.student / ref.student).toFixed(0)}x the cpu backend on the student, ${(best.teacher / ref.teacher).toFixed(0)}x on the teacher`);
  }
});
