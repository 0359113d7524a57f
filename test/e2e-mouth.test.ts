/**
 * The measured mouth in the browser (issue 18): a model with the mouth head is read in the worker
 * and on the main thread alike, its mouth reaches the result and the app's avatar, and the tracker's
 * jawOpen follows the talking demo face.
 *
 * The plumbing runs on a fixture: a committed student given a mouth head of known weights
 * (test/helpers/mouth-model.ts), built here, never committed. The measurement needs a trained head:
 * HALFFACE_MOUTH_MODEL names its folder (an export whose graph has the "mouth" output; default
 * models/halfface); without one that test is skipped and says why.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { FIXTURE_PREFIX, REPO_ROOT, startHarness, type Harness } from '../tools/browser/harness.js';
import { launchChromium, newContext, startAppServer, watchForeignRequests } from './helpers/e2e-app.js';
import { pearson } from '../tools/mouth/stats.js';
import { fixtureMouth, hasMouthOutput, mouthFixtureModel, readModelFiles } from './helpers/mouth-model.js';

const TRAINED_DIR = resolve(REPO_ROOT, process.env.HALFFACE_MOUTH_MODEL ?? 'models/halfface');
const TRAINED = hasMouthOutput(TRAINED_DIR) ? TRAINED_DIR : null;
/** The tracker's smoothed jawOpen against the drawn opening, over one whole demo cycle. */
const MIN_PEARSON = 0.8;

type DemoModule = typeof import('../src/capture/demo-face.js');
declare global {
  interface Window { demoFace: DemoModule }
}

const fixtures = new Map<string, Uint8Array | string>();
let harness: Harness;
let page: Page;

beforeAll(async () => {
  for (const [name, body] of await mouthFixtureModel()) fixtures.set(`mouth/${name}`, body);
  if (TRAINED) for (const [name, body] of readModelFiles(TRAINED)) fixtures.set(`trained/${name}`, body);
  for (const [name, body] of readModelFiles(resolve(REPO_ROOT, 'models/student-baseline'))) fixtures.set(`plain/${name}`, body);
  harness = await startHarness({ fixtures });
  ({ page } = await harness.openPage());
  // A string, not a function: vitest would rewrite an import() inside a function for Node.
  await page.evaluate("import('/src/capture/demo-face.ts').then((m) => { window.demoFace = m; })");
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

describe('a model with the mouth head, in the tracker', () => {
  it('is read in the worker and on the main thread: raw mouth, measured jaw, visemes', async () => {
    const trackPhases = (worker: boolean) => page.evaluate(async ({ modelUrl, worker }) => {
      const demo = window.demoFace;
      const tracker = await window.halfface.ExpressionTracker.create({
        modelUrl, roi: { mode: 'fixed', box: demo.DEMO_FACE_BOX, placement: 'face' }, smoothing: false, worker,
      });
      const canvas = Object.assign(document.createElement('canvas'), { width: demo.DEMO_WIDTH, height: demo.DEMO_HEIGHT });
      const ctx = canvas.getContext('2d')!;
      const frames = [];
      for (const [i, phase] of demo.DEMO_SEQUENCE.entries()) {
        demo.drawDemoFace(ctx, phase.params, 0);
        const r = (await tracker.track(canvas, 100 * (i + 1)))!;
        frames.push({ raw: r.raw, mouth: r.mouth, visemes: r.visemes, blendshapes: r.blendshapes });
      }
      const inWorker = tracker.inWorker;
      tracker.dispose();
      return { inWorker, frames };
    }, { modelUrl: `${FIXTURE_PREFIX}mouth/model.json`, worker });
    const runs = [await trackPhases(true), await trackPhases(false)];
    expect(runs.map((r) => r.inWorker)).toEqual([true, false]);
    for (const { frames } of runs) {
      for (const f of frames) {
        expect(f.mouth).not.toBeNull();
        const expected = fixtureMouth(EXPRESSIONS.map((e) => f.raw[e]));
        Object.values(f.mouth!).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 4));
        expect(f.blendshapes.jawOpen).toBeCloseTo(f.mouth!.jawOpen, 6);
        expect(f.blendshapes.mouthPressLeft ?? 0).toBe(0);
        expect(f.visemes?.aa).toBeGreaterThan(0);
      }
    }
    // One model, one answer: the worker's mouth is the main thread's.
    runs[0].frames.forEach((f, i) => {
      const local = runs[1].frames[i].mouth!;
      for (const [name, v] of Object.entries(f.mouth!)) expect(v, name).toBeCloseTo(local[name as keyof typeof local], 4);
    });
  }, 300_000);

  it('a model without the head reports no mouth', async () => {
    const result = await page.evaluate(async ({ modelUrl }) => {
      const demo = window.demoFace;
      const tracker = await window.halfface.ExpressionTracker.create({
        modelUrl, roi: { mode: 'fixed', box: demo.DEMO_FACE_BOX, placement: 'face' }, worker: false,
      });
      const canvas = Object.assign(document.createElement('canvas'), { width: demo.DEMO_WIDTH, height: demo.DEMO_HEIGHT });
      demo.drawDemoFace(canvas.getContext('2d')!, demo.DEMO_SEQUENCE[2].params, 0);
      const r = (await tracker.track(canvas, 0))!;
      tracker.dispose();
      return { mouth: r.mouth, visemes: r.visemes };
    }, { modelUrl: `${FIXTURE_PREFIX}plain/model.json` });
    expect(result).toEqual({ mouth: null, visemes: null });
  }, 300_000);

  it.skipIf(!TRAINED)(`jawOpen follows the talking demo face (Pearson r ≥ ${MIN_PEARSON}; model: ${TRAINED ?? `none with a mouth head at ${TRAINED_DIR}, set HALFFACE_MOUTH_MODEL`})`, async () => {
    const { drawn, smoothed, raw, labels, talking } = await page.evaluate(async ({ modelUrl }) => {
      const demo = window.demoFace;
      const tracker = await window.halfface.ExpressionTracker.create({
        modelUrl, roi: { mode: 'fixed', box: demo.DEMO_FACE_BOX, placement: 'face' }, worker: false,
      });
      const canvas = Object.assign(document.createElement('canvas'), { width: demo.DEMO_WIDTH, height: demo.DEMO_HEIGHT });
      const ctx = canvas.getContext('2d')!;
      const out = { drawn: [] as number[], smoothed: [] as number[], raw: [] as number[], labels: [] as string[], talking: [] as boolean[] };
      // One whole cycle at 30 fps on the demo's own clock: every phase, its still part and its talking.
      const period = demo.DEMO_HOLD_MS + demo.DEMO_BLEND_MS;
      const cycle = demo.DEMO_SEQUENCE.length * period;
      for (let t = 0; t < cycle; t += 1000 / 30) {
        const within = t % period;
        out.talking.push(demo.DEMO_SEQUENCE[Math.floor(t / period)].talk && within >= demo.DEMO_TALK_START_MS && within < demo.DEMO_HOLD_MS);
        const face = demo.demoFaceAt(t);
        demo.drawDemoFace(ctx, face.params, t);
        const r = (await tracker.track(canvas, t))!;
        out.drawn.push(demo.demoOpennessAt(t));
        out.smoothed.push(r.blendshapes.jawOpen ?? 0);
        out.raw.push(r.mouth?.jawOpen ?? 0);
        out.labels.push(r.label);
      }
      tracker.dispose();
      return out;
    }, { modelUrl: `${FIXTURE_PREFIX}trained/model.json` });
    const r = pearson(drawn, smoothed);
    // Said, not asserted: the same over the talking frames alone, where only the jaw and lips move.
    const speech = (xs: number[]) => xs.filter((_, i) => talking[i]);
    console.log(`[e2e-mouth] ${TRAINED}: ${drawn.length} frames, jawOpen vs drawn opening r = ${r.toFixed(3)} (smoothed), ${pearson(drawn, raw).toFixed(3)} (raw); `
      + `over the ${speech(drawn).length} talking frames ${pearson(speech(drawn), speech(smoothed)).toFixed(3)} (smoothed), ${pearson(speech(drawn), speech(raw)).toFixed(3)} (raw)`);
    mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
    writeFileSync(resolve(REPO_ROOT, 'test-results/e2e-mouth-jaw.csv'), `drawn,jawOpen,jawOpenRaw,label,talking\n${drawn.map((d, i) => `${d},${smoothed[i]},${raw[i]},${labels[i]},${talking[i]}`).join('\n')}\n`);
    expect(r).toBeGreaterThanOrEqual(MIN_PEARSON);
  }, 600_000);
});

describe('the app with a mouth model', () => {
  // The app server serves the repository: the fixture goes where the app can fetch it, untracked.
  const dir = resolve(REPO_ROOT, 'test-results/e2e-mouth-model');
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    for (const [name, body] of fixtures) if (name.startsWith('mouth/')) writeFileSync(join(dir, name.slice('mouth/'.length)), body);
  });
  afterAll(() => { if (existsSync(dir)) rmSync(dir, { recursive: true }); });

  it('drives the default avatar\'s jaw from the measured mouth', async () => {
    const app = await startAppServer();
    const browser = await launchChromium();
    try {
      const context = await newContext(browser, app.baseUrl);
      const foreign = watchForeignRequests(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto('/?input=demo&model=/test-results/e2e-mouth-model/model.json', { waitUntil: 'domcontentloaded', timeout: 120_000 });
      await page.waitForFunction(() => window.__halfface?.latest?.mouth != null, undefined, { timeout: 240_000 });
      // The fixture keeps the jaw well open; the expression mapping alone would leave a neutral face's shut.
      await page.waitForFunction(() => (window.__halfface!.morph.jawOpen ?? 0) > 0.5, undefined, { timeout: 60_000 });
      const snapshot = await page.evaluate(() => window.__halfface!);
      expect(snapshot.modelNotice).toBeNull();
      expect(snapshot.latest!.visemes).not.toBeNull();
      expect(snapshot.latest!.blendshapes.jawOpen).toBeGreaterThan(0.5);
      await context.close();
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
      await app.close();
    }
  }, 600_000);
});
