/**
 * npm run bench:browser — in one headless Chromium run (WebGL; SwiftShader on a machine without a
 * GPU): per-frame p50/p95 of preprocessing and inference for our student (main thread and worker)
 * and for face-api's expression net (the peer, from its npm package), and the peer/student ratio;
 * then how often the detector ROI finds real FER+ faces whole and with the upper half blacked out.
 *
 *   npm run bench:browser -- [--model models/halfface] [--frames 100] [--detector-images 200]
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FACE_PIXELS } from '../../src/core/face-geometry.js';
import { DEFAULT_MIN_SCORE, DETECTOR_INPUT_SIZE } from '../../src/tracker/detector-config.js';
import { FIXTURE_PREFIX, startHarness } from '../browser/harness.js';
import type * as BenchPage from '../browser/bench-page.js';
import { loadSplit, resolveDataDir } from '../data/ferplus.js';
import { runCli } from './run-cli.js';
import { addDataOption } from './options.js';

type Bench = typeof BenchPage;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const fmt = (v: number) => v.toFixed(2).padStart(8);

function row(name: string, t: BenchPage.Timings): string {
  return `${name.padEnd(34)}${fmt(percentile(t.preprocessMs, 50))}${fmt(percentile(t.preprocessMs, 95))}  ${fmt(percentile(t.inferenceMs, 50))}${fmt(percentile(t.inferenceMs, 95))}  ${fmt(percentile(t.totalMs, 50))}${fmt(percentile(t.totalMs, 95))}`;
}

async function main() {
  const program = addDataOption(new Command('bench:browser')
    .option('--model <dir>', 'student model folder (model.json + weights.bin)', 'models/halfface'))
    .option('--frames <n>', 'timed frames per model', '100')
    .option('--warm-up <n>', 'untimed frames first', '10')
    .option('--detector-images <n>', 'FER+ Valid images for the detector hit rate (0 = skip)', '200')
    .option('--detector-min-score <p>', 'tiny face detector score threshold', String(DEFAULT_MIN_SCORE))
    .parse(process.argv);
  const opts = program.opts<{ model: string; data?: string; frames: string; warmUp: string; detectorImages: string; detectorMinScore: string }>();
  const minScore = Number(opts.detectorMinScore);
  const frames = Number(opts.frames);
  const warmUp = Number(opts.warmUp);
  const detectorImages = Number(opts.detectorImages);
  if (!(frames > 0) || !(warmUp >= 0) || !(detectorImages >= 0) || !(minScore > 0 && minScore < 1)) throw new Error('--frames must be > 0, --warm-up and --detector-images ≥ 0, --detector-min-score in (0, 1)');

  const modelDir = resolve(opts.model);
  let modelJson: string, weights: Buffer;
  try {
    modelJson = readFileSync(resolve(modelDir, 'model.json'), 'utf8');
    weights = readFileSync(resolve(modelDir, 'weights.bin'));
  } catch (e) {
    throw new Error(`cannot read the model in ${modelDir}: ${(e as Error).message}`);
  }
  const split = loadSplit(resolveDataDir(opts.data), 'FER2013Valid', 'majority');
  const count = Math.max(32, detectorImages);
  if (split.labels.length < count) throw new Error(`FER2013Valid has ${split.labels.length} images, need ${count}`);
  const faces = Array.from({ length: count }, (_, i) => Array.from(split.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS)));

  const harness = await startHarness({ fixtures: new Map<string, Uint8Array | string>([['bench/model.json', modelJson], ['bench/weights.bin', weights]]) });
  try {
    const { page } = await harness.openPage();
    const version = harness.browser.version();
    const modelUrl = `${FIXTURE_PREFIX}bench/model.json`;
    const result = await page.evaluate(async ({ faces, modelUrl, frames, warmUp, detectorImages, minScore }) => {
      const bench = (await (window as unknown as { halffaceBench: () => Promise<Bench> }).halffaceBench());
      // 32 real faces at 192x192, the size of a face in a 640x480 webcam frame, for every model.
      const canvases = faces.slice(0, 32).map((f) => bench.faceCanvas(f, 192));
      const studentMain = await bench.benchStudent(modelUrl, canvases, frames, warmUp, false);
      const peer = await bench.benchPeer(canvases, frames, warmUp);
      const studentWorker = await bench.benchStudent(modelUrl, canvases, frames, warmUp, true);
      const detector = detectorImages > 0 ? await bench.detectorHitRate(modelUrl, faces.slice(0, detectorImages), minScore) : null;
      return { studentMain, studentWorker, peer, detector, renderer: bench.webglRenderer() };
    }, { faces, modelUrl, frames, warmUp, detectorImages, minScore });

    console.log(`bench:browser — Chromium ${version}, tfjs ${result.studentMain.backend} on "${result.renderer}"`);
    console.log(`student: ${modelDir}; peer: @vladmandic/face-api FaceExpressionNet; ${frames} timed frames each (after ${warmUp} warm-up), 192x192 real FER+ faces`);
    console.log(`${''.padEnd(34)}${'preprocess ms'.padStart(16)}  ${'inference ms'.padStart(16)}  ${'per frame ms'.padStart(16)}`);
    console.log(`${''.padEnd(34)}${'p50'.padStart(8)}${'p95'.padStart(8)}  ${'p50'.padStart(8)}${'p95'.padStart(8)}  ${'p50'.padStart(8)}${'p95'.padStart(8)}`);
    console.log(row('student (ours), main thread', result.studentMain));
    console.log(row('face-api expression net (peer)', result.peer));
    console.log(row(`student (ours), ${result.studentWorker.inWorker ? 'worker' : 'worker unavailable→main'}`, result.studentWorker));
    const p50 = (t: BenchPage.Timings, k: keyof BenchPage.Timings) => percentile(t[k], 50);
    const ratio = p50(result.peer, 'totalMs') / p50(result.studentMain, 'totalMs');
    console.log(`ratio peer/student, same thread, p50 per frame: ${ratio.toFixed(2)}x (inference only: ${(p50(result.peer, 'inferenceMs') / p50(result.studentMain, 'inferenceMs')).toFixed(2)}x); goal ≥ 2x: ${ratio >= 2 ? 'met' : 'NOT met'}`);
    if (result.detector) {
      const d = result.detector;
      const pct = (k: number) => `${((100 * k) / d.n).toFixed(1)}%`;
      console.log(`detector ROI (tiny face detector, input ${DETECTOR_INPUT_SIZE}, min score ${minScore}) on ${d.n} FER+ Valid faces in a 640x360 frame: found ${d.full}/${d.n} (${pct(d.full)}) whole, ${d.upperHidden}/${d.n} (${pct(d.upperHidden)}) with the upper half black; misses fall back to the last good box / fallbackBox`);
    }
  } finally {
    await harness.close();
  }
}

runCli(main);
