/**
 * npm run bench:scene [-- --rounds 3 --seconds 8 --json out.json]
 * Frame time of the running app in headless Chromium (WebGL on SwiftShader) with inference on and
 * off, alternating phases on one page so both see the same machine load. Prints the ratio of mean
 * frame intervals (goal ≤ 1.1: the render loop must not wait for inference).
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

interface Phase { tracking: boolean; frames: number; intervalMean: number; intervalP50: number; intervalP95: number; workMean: number; tracked: number }

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
  .option('--chromium <path>', 'Chromium executable', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
  .option('--json <file>', 'write the phases and the ratio here');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const rounds = Number(o.rounds), seconds = Number(o.seconds);
  if (!(rounds >= 1) || !(seconds > 0)) throw new Error('--rounds must be ≥ 1 and --seconds > 0');
  const server = await createServer({
    configFile: resolve(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'warn', clearScreen: false,
    cacheDir: resolve(REPO_ROOT, 'node_modules/.vite-e2e'),
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer!.address();
  if (!address || typeof address === 'string') throw new Error('vite dev server has no TCP address');
  const browser = await chromium.launch({ executablePath: o.chromium, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: Number(o.width), height: Number(o.height) } });
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.goto(`http://127.0.0.1:${address.port}/?input=demo&bench`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    console.log('waiting for the tracker…');
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 300_000 });
    const backend = await page.evaluate(() => ({ worker: window.__halfface!.trackerInWorker, renderer: (() => {
      const gl = document.querySelector('canvas')!.getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    })() }));
    console.log(`inference in a worker: ${backend.worker}; renderer: ${backend.renderer}`);
    const phases: Phase[] = [];
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
          tracking, frames: t.intervals.length, intervalMean: mean(t.intervals), intervalP50: quantile(t.intervals, 0.5),
          intervalP95: quantile(t.intervals, 0.95), workMean: mean(t.work), tracked: t.tracked - tracked0,
        };
        phases.push(phase);
        console.log(`round ${r + 1} inference ${tracking ? 'on ' : 'off'}: ${phase.frames} frames, interval mean ${phase.intervalMean.toFixed(1)} ms (p50 ${phase.intervalP50.toFixed(1)}, p95 ${phase.intervalP95.toFixed(1)}), work ${phase.workMean.toFixed(1)} ms, ${phase.tracked} frames tracked`);
      }
    }
    const on = phases.filter((p) => p.tracking), off = phases.filter((p) => !p.tracking);
    const ratio = mean(on.map((p) => p.intervalMean)) / mean(off.map((p) => p.intervalMean));
    const workRatio = mean(on.map((p) => p.workMean)) / mean(off.map((p) => p.workMean));
    console.log(`\nframe interval, inference on / off: ${ratio.toFixed(3)} (goal ≤ 1.1)${ratio <= 1.1 ? '' : '  ABOVE GOAL'}`);
    console.log(`main-thread work per frame, on / off: ${workRatio.toFixed(3)}`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ phases, ratio, workRatio, backend }, null, 2));
  } finally {
    await browser.close();
    await server.close();
  }
});
