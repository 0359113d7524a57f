/**
 * The built-in demo face is the first thing a newcomer sees: each of its phases must be read by the
 * shipped model as the expression it is named after. Each phase is drawn at several moments of its
 * sway and tracked with smoothing off, through the same fixed ROI the app uses for the demo input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_BLEND_MS, DEMO_HOLD_MS, DEMO_SEQUENCE, DEMO_SYLLABLE_MS, DEMO_TALK_START_MS, demoFaceAt, demoMouthOpening, demoOpennessAt,
} from '../src/capture/demo-face.js';
import { REPO_ROOT, startHarness, type Harness } from '../tools/browser/harness.js';

const SWAY_TIMES_MS = [0, 700, 1400, 2100, 2900, 3700];

let harness: Harness;
let page: Page;

beforeAll(async () => {
  harness = await startHarness();
  ({ page } = await harness.openPage());
  // A string, not a function: vitest would rewrite an import() inside a function for Node.
  await page.evaluate("import('/src/capture/demo-face.ts').then((m) => { window.demoFace = m; })");
});

type DemoModule = typeof import('../src/capture/demo-face.js');
declare global {
  interface Window { demoFace: DemoModule }
}
afterAll(async () => {
  await harness?.close();
});

describe('demo face', () => {
  it('every phase is recognised as the expression it is named after', async () => {
    const { phases, sheet } = await page.evaluate(async (times) => {
      const demo = window.demoFace;
      const tracker = await window.halfface.ExpressionTracker.create({
        modelUrl: '/models/halfface/model.json',
        roi: { mode: 'fixed', box: demo.DEMO_FACE_BOX, placement: 'face' },
        smoothing: false,
        worker: false,
      });
      const canvas = Object.assign(document.createElement('canvas'), { width: demo.DEMO_WIDTH, height: demo.DEMO_HEIGHT });
      const ctx = canvas.getContext('2d')!;
      const sheetCanvas = Object.assign(document.createElement('canvas'), { width: demo.DEMO_WIDTH * demo.DEMO_SEQUENCE.length, height: demo.DEMO_HEIGHT });
      const out: { name: string; reads: { label: string; p: number; lead: number }[] }[] = [];
      let clock = 0;
      for (const [i, phase] of demo.DEMO_SEQUENCE.entries()) {
        const reads = [];
        for (const t of times) {
          demo.drawDemoFace(ctx, phase.params, t);
          const result = (await tracker.track(canvas, (clock += 100)))!;
          const raw = result.raw as Record<string, number>;
          const label = Object.keys(raw).reduce((a, b) => (raw[b] > raw[a] ? b : a));
          // The runner-up: the named expression must lead it clearly.
          const runnerUp = Math.max(...Object.keys(raw).filter((k) => k !== label).map((k) => raw[k]));
          reads.push({ label, p: raw[phase.name], lead: raw[phase.name] - runnerUp });
        }
        sheetCanvas.getContext('2d')!.drawImage(canvas, i * demo.DEMO_WIDTH, 0);
        out.push({ name: phase.name, reads });
      }
      tracker.dispose();
      return { phases: out, sheet: sheetCanvas.toDataURL('image/png') };
    }, SWAY_TIMES_MS);
    mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
    writeFileSync(resolve(REPO_ROOT, 'test-results/demo-face-phases.png'), Buffer.from(sheet.split(',')[1], 'base64'));
    for (const phase of phases) {
      console.log(`[demo-face] ${phase.name}: ${phase.reads.map((r) => `${r.label} (${(r.p * 100).toFixed(0)}%, +${(r.lead * 100).toFixed(0)})`).join(', ')}`);
    }
    expect(phases.map((p) => p.name)).toEqual(['neutral', 'happiness', 'surprise', 'sadness', 'anger']);
    for (const phase of phases) {
      // Read as drawn at every moment of the sway, by a clear margin (not a coin toss between two):
      // at least 20 points over the runner-up.
      expect(phase.reads.map((r) => r.label), phase.name).toEqual(phase.reads.map(() => phase.name));
      expect(Math.min(...phase.reads.map((r) => r.lead)), phase.name).toBeGreaterThan(0.2);
    }
  });

  it('holds and blends: demoFaceAt names the phase shown and interpolates between phases', async () => {
    const samples = await page.evaluate(async () => {
      const demo = window.demoFace;
      const period = demo.DEMO_HOLD_MS + demo.DEMO_BLEND_MS;
      return {
        hold: demo.DEMO_SEQUENCE.map((_, i) => demo.demoFaceAt(i * period + 10).name),
        mid: demo.demoFaceAt(3 * period + demo.DEMO_HOLD_MS + demo.DEMO_BLEND_MS / 2).params.open,
        from: demo.DEMO_SEQUENCE[3].params.open,
        to: demo.DEMO_SEQUENCE[4].params.open,
      };
    });
    expect(samples.hold).toEqual(['neutral', 'happiness', 'surprise', 'sadness', 'anger']);
    expect(samples.mid).toBeCloseTo((samples.from + samples.to) / 2, 5);
  });

  it('talks: in a talking phase the jaw opens and closes at the syllable rate with lip shapes, in the still part it does not', () => {
    const period = DEMO_HOLD_MS + DEMO_BLEND_MS;
    for (const [i, phase] of DEMO_SEQUENCE.entries()) {
      const still = demoFaceAt(i * period + DEMO_TALK_START_MS - 1);
      expect(still.params, phase.name).toEqual(phase.params);
      const talk: number[] = [];
      let rounded = 0, spread = 0;
      for (let t = i * period + DEMO_TALK_START_MS; t < i * period + DEMO_HOLD_MS; t += 10) {
        const face = demoFaceAt(t);
        expect(face.name).toBe(phase.name);
        talk.push(demoOpennessAt(t));
        rounded = Math.max(rounded, face.params.pucker);
        spread = Math.max(spread, face.params.stretch);
      }
      const range = Math.max(...talk) - Math.min(...talk);
      if (!phase.talk) {
        expect(range, phase.name).toBe(0);
        continue;
      }
      expect(range, phase.name).toBeGreaterThan(0.15);
      expect(rounded, phase.name).toBeGreaterThan(0.5);
      expect(spread, phase.name).toBeGreaterThan(0.5);
      // Closes between syllables: the mouth shuts (or nearly) at least once per two syllables.
      const closings = talk.filter((v, k) => k > 0 && v < 0.03 && talk[k - 1] >= 0.03).length;
      expect(closings, phase.name).toBeGreaterThanOrEqual(Math.floor((DEMO_HOLD_MS - DEMO_TALK_START_MS) / DEMO_SYLLABLE_MS / 2));
    }
    // Continuous: no jump from one 10 ms step to the next, talking or blending.
    for (let t = 0; t < DEMO_SEQUENCE.length * period; t += 10) {
      expect(Math.abs(demoOpennessAt(t + 10) - demoOpennessAt(t)), `t = ${t}`).toBeLessThan(0.05);
    }
  });

  it('opening is the drawn inner-lip gap in eye distances: closed at rest, wider for surprise and the shout', () => {
    const [neutral, , surprise, , anger] = DEMO_SEQUENCE.map((p) => demoMouthOpening(p.params));
    expect(neutral).toBeCloseTo(0, 10);
    expect(surprise).toBeGreaterThan(0.2);
    expect(anger).toBeGreaterThan(surprise);
    // Flattening the lips (a stretch) shows less of the same jaw opening, rounding them more.
    const open = { ...DEMO_SEQUENCE[0].params, open: 0.6 };
    expect(demoMouthOpening({ ...open, stretch: 1 })).toBeLessThan(demoMouthOpening(open));
    expect(demoMouthOpening({ ...open, pucker: 1 })).toBeGreaterThan(demoMouthOpening(open));
  });
});
