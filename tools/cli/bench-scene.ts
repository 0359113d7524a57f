/**
 * npm run bench:scene [-- --rounds 3 --seconds 8 --inputs demo,camera --json out.json]
 * Frame time of the running app in headless Chromium (WebGL on SwiftShader) with inference on and
 * off, alternating phases on one page so both see the same machine load. Prints the ratio of mean
 * frame intervals per input (goal ≤ 1.1: the render loop must not wait for inference):
 *   demo   the built-in demo face (fixed ROI: the model alone)
 *   camera Chromium's fake camera with no stored ROI: the face detector runs on every frame too
 */
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { runCli } from './run-cli.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

interface Phase { input: string; tracking: boolean; frames: number; intervalMean: number; intervalP50: number; intervalP95: number; workMean: number; tracked: number }

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const program = new Command()
  .name('bench:scene')
  .option('--rounds <n>', 'off/on pairs', '3')
  .option('--seconds <s>', 'length of each phase', '8')
  .option('--width <px>', 'viewport width', '1280')
  .option('--height <px>', 'viewport height', '720')
  .option('--inputs <list>', 'inputs to measure, in order: demo, camera', 'demo,camera')
  .option('--chromium <path>', 'Chromium executable', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
  .option('--json <file>', 'write the phases and the ratio here');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const rounds = Number(o.rounds), seconds = Number(o.seconds);
  if (!(rounds >= 1) || !(seconds > 0)) throw new Error('--rounds must be ≥ 1 and --seconds > 0');
  const inputs = String(o.inputs).split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = inputs.filter((x) => x !== 'demo' && x !== 'camera');
  if (inputs.length === 0 || unknown.length) throw new Error(`--inputs takes demo and/or camera, got "${o.inputs}"`);
  const server = await createServer({
    configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'warn', clearScreen: false,
    cacheDir: resolve(REPO_ROOT, 'node_modules/.vite-e2e'),
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer!.address();
  if (!address || typeof address === 'string') throw new Error('vite dev server has no TCP address');
  // A fake camera (Chromium's test pattern) for the camera input, granted without a prompt.
  const browser = await chromium.launch({ executablePath: o.chromium, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  try {
    const context = await browser.newContext({ viewport: { width: Number(o.width), height: Number(o.height) } });
    await context.grantPermissions(['camera'], { origin: `http://127.0.0.1:${address.port}` });
    const page = await context.newPage();
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.goto(`http://127.0.0.1:${address.port}/?input=demo&bench`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    console.log('waiting for the tracker…');
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 300_000 });
    const backend = await page.evaluate(() => ({ renderer: (() => {
      const gl = document.querySelector('canvas')!.getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    })() }));
    console.log(`renderer: ${backend.renderer}`);
    const phases: Phase[] = [];
    const ratios: Record<string, { ratio: number; workRatio: number; worker: boolean }> = {};
    for (const input of inputs) {
      if (input === 'camera') {
        console.log('switching to the camera (face detector on, no stored ROI)…');
        await page.evaluate(() => (window as unknown as { __halffaceBench: { useCamera(): Promise<void> } }).__halffaceBench.useCamera());
        await page.waitForFunction(() => window.__halfface?.input?.kind === 'camera' && window.__halfface.trackerStatus === 'ready' && window.__halfface.roi.mode === 'detector', undefined, { timeout: 300_000 });
        const tracked = await page.evaluate(() => window.__halfface!.trackedFrames);
        await page.waitForFunction((n) => window.__halfface!.trackedFrames > n, tracked, { timeout: 300_000 });
      }
      const worker = await page.evaluate(() => window.__halfface!.trackerInWorker);
      console.log(`input ${input}: inference in a worker: ${worker}`);
      for (let r = 0; r < rounds; r++) {
        for (const tracking of [false, true]) {
          const tracked0 = await page.evaluate((on) => {
            const bench = (window as unknown as { __halffaceBench: { setTracking(on: boolean): void } }).__halffaceBench;
            bench.setTracking(on);
            return window.__halfface!.trackedFrames;
          }, tracking);
          await page.waitForTimeout(1000);
          await page.evaluate(() => (window as unknown as { __halffaceBench: { port: { resetTimings(): void } } }).__halffaceBench.port.resetTimings());
          await page.waitForTimeout(seconds * 1000);
          const t = await page.evaluate(() => {
            const port = (window as unknown as { __halffaceBench: { port: { frameIntervals: number[]; frameWork: number[] } } }).__halffaceBench.port;
            return { intervals: [...port.frameIntervals], work: [...port.frameWork], tracked: window.__halfface!.trackedFrames };
          });
          const phase: Phase = {
            input, tracking, frames: t.intervals.length, intervalMean: mean(t.intervals), intervalP50: quantile(t.intervals, 0.5),
            intervalP95: quantile(t.intervals, 0.95), workMean: mean(t.work), tracked: t.tracked - tracked0,
          };
          phases.push(phase);
          console.log(`${input} round ${r + 1} inference ${tracking ? 'on ' : 'off'}: ${phase.frames} frames, interval mean ${phase.intervalMean.toFixed(1)} ms (p50 ${phase.intervalP50.toFixed(1)}, p95 ${phase.intervalP95.toFixed(1)}), work ${phase.workMean.toFixed(1)} ms, ${phase.tracked} frames tracked`);
        }
      }
      const mine = phases.filter((p) => p.input === input);
      const on = mine.filter((p) => p.tracking), off = mine.filter((p) => !p.tracking);
      ratios[input] = {
        ratio: mean(on.map((p) => p.intervalMean)) / mean(off.map((p) => p.intervalMean)),
        workRatio: mean(on.map((p) => p.workMean)) / mean(off.map((p) => p.workMean)),
        worker,
      };
    }
    console.log('');
    for (const [input, r] of Object.entries(ratios)) {
      console.log(`${input.padEnd(6)} frame interval, inference on / off: ${r.ratio.toFixed(3)} (goal ≤ 1.1)${r.ratio <= 1.1 ? '' : '  ABOVE GOAL'}; main-thread work per frame on / off: ${r.workRatio.toFixed(3)}; worker: ${r.worker}`);
    }
    if (o.json) writeFileSync(o.json, JSON.stringify({ phases, ratios, backend }, null, 2));
  } finally {
    await browser.close();
    await server.close();
  }
});
