/**
 * npm run check:kernels [-- --limit-train 5000 --json FILE] — the same short training run twice on
 * real FER+ faces, once with the stock wasm kernels and once with ours (tools/backend/training-kernels.ts),
 * each in its own process with every random draw seeded (initialisation, batches, augmentation and,
 * through a seeded Math.random, dropout), then FER2013Valid accuracy side by side. Fails when the
 * two differ by more than --tolerance points: our kernels must train the network the stock ones do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { kernelCounts } from '../backend/training-kernels.js';
import { resolveDataDir } from '../data/ferplus.js';
import { seededRandom } from '../data/random.js';
import { defaultConfig } from '../train/config.js';
import { readEpochs } from '../train/run-dir.js';
import { objectiveFor } from '../train/stages.js';
import { train } from '../train/trainer.js';
import { addDataOption } from './options.js';
import { runCli } from './run-cli.js';

interface Result { kernels: 'ours' | 'stock'; validAccuracy: number; minutes: number; fallbacks: number }

const program = addDataOption(new Command()
  .name('check:kernels')
  .option('--run <kernels>', 'internal: train once with "ours" or "stock" in this process')
  .option('--limit-train <n>', 'training faces (the first N of FER2013Train)', Number, 5000)
  .option('--epochs <n>', 'epochs', Number, 1)
  .option('--threads <n>', 'wasm threads', Number, 2)
  .option('--tolerance <points>', 'largest accepted accuracy difference, in points', Number, 0.5)
  .option('--json <file>', 'write both results and the difference here'));

runCli(async () => {
  program.parse();
  const o = program.opts() as { run?: string; limitTrain: number; epochs: number; threads: number; tolerance: number; json?: string; data?: string };
  if (o.run) {
    if (o.run !== 'ours' && o.run !== 'stock') throw new Error(`--run must be ours or stock, not ${o.run}`);
    process.env.HALFFACE_KERNELS = o.run;
    // tfjs seeds its unseeded random ops (dropout) from Math.random: seed that too.
    Math.random = seededRandom(12345);
    await selectBackend('wasm', o.threads);
    const runDir = mkdtempSync(join(tmpdir(), `halfface-check-${o.run}-`));
    try {
      const config = { ...defaultConfig('teacher', resolveDataDir(o.data)), architecture: 'student' as const, limitTrain: o.limitTrain, epochs: o.epochs, threads: o.threads, backend: 'wasm', checkpointEveryBatches: 1_000_000 };
      const started = Date.now();
      await train(config, runDir, objectiveFor('teacher'), { log: () => {}, progress: false });
      const epochs = readEpochs(runDir);
      const result: Result = {
        kernels: o.run, validAccuracy: epochs[epochs.length - 1].validAccuracy, minutes: (Date.now() - started) / 60000,
        fallbacks: Object.values(kernelCounts.fallback).reduce((a, b) => a + b, 0),
      };
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
    return;
  }
  const results: Result[] = [];
  for (const kernels of ['stock', 'ours'] as const) {
    process.stderr.write(`training ${o.epochs} epoch(s) on ${o.limitTrain} faces with the ${kernels} kernels ...\n`);
    const args = [...process.execArgv, process.argv[1], '--run', kernels, '--limit-train', String(o.limitTrain), '--epochs', String(o.epochs), '--threads', String(o.threads), ...(o.data ? ['--data', o.data] : [])];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the ${kernels} run printed no result`);
    results.push(JSON.parse(line.slice(7)) as Result);
  }
  const [stock, ours] = results;
  const difference = (ours.validAccuracy - stock.validAccuracy) * 100;
  console.log('| kernels | FER2013Valid accuracy | minutes | fallbacks |\n|---|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.kernels} | ${(r.validAccuracy * 100).toFixed(2)}% | ${r.minutes.toFixed(1)} | ${r.fallbacks} |`);
  console.log(`difference: ${difference >= 0 ? '+' : ''}${difference.toFixed(2)} points (tolerance ±${o.tolerance})`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ results, difference, tolerance: o.tolerance }, null, 2)}\n`);
  if (Math.abs(difference) > o.tolerance) throw new Error(`our kernels trained to ${difference.toFixed(2)} points from the stock ones (tolerance ${o.tolerance})`);
});
