/** Smoothing, neutral calibration and the avatar mapping table (src/core). */
import { describe, expect, it } from 'vitest';
import { ARKIT_BLENDSHAPES, ARKIT_TABLE, arkitWeights, toRecord, VRM_PRESETS, VRM_TABLE, vrmWeights } from '../src/core/blendshapes.js';
import { applyCalibration, fitNeutralCalibration, MAX_GAIN, NEUTRAL_TARGET } from '../src/core/calibration.js';
import { argmax, EXPRESSIONS } from '../src/core/labels.js';
import { DEFAULT_ONE_EURO, LabelHysteresis, OneEuroFilter, ProbabilitySmoother } from '../src/core/smoothing.js';

const oneHot = (k: number) => EXPRESSIONS.map((_, i) => (i === k ? 1 : 0));
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

describe('one-euro smoothing', () => {
  it('with the defaults: a quarter of the jitter on a still signal at 30 fps, and a step followed within a second', () => {
    const filter = new OneEuroFilter(DEFAULT_ONE_EURO);
    let rawVar = 0, smoothVar = 0;
    for (let i = 0; i < 300; i++) {
      const noise = Math.sin(i * 12.9898) * 0.1; // deterministic jitter around 0.5
      const y = filter.filter(0.5 + noise, i * 33);
      if (i > 30) { rawVar += noise ** 2; smoothVar += (y - 0.5) ** 2; }
    }
    expect(smoothVar).toBeLessThan(rawVar / 4);
    let y = 0;
    for (let i = 300; i < 330; i++) y = filter.filter(1, i * 33);
    expect(y).toBeGreaterThan(0.9);
  });

  it('keeps a distribution a distribution and ignores repeated timestamps', () => {
    const smoother = new ProbabilitySmoother(8);
    const a = smoother.smooth([0.5, 0.5, 0, 0, 0, 0, 0, 0], 0);
    expect(sum(a)).toBeCloseTo(1, 10);
    const b = smoother.smooth(oneHot(3), 33);
    expect(sum(b)).toBeCloseTo(1, 10);
    expect(Array.from(smoother.smooth(oneHot(5), 33))).toEqual(Array.from(b));
  });

  it('label hysteresis holds the label until another class leads by the margin', () => {
    const h = new LabelHysteresis(0.1);
    expect(h.update([0.5, 0.45, 0.05, 0, 0, 0, 0, 0])).toBe(0);
    expect(h.update([0.45, 0.5, 0.05, 0, 0, 0, 0, 0])).toBe(0);
    expect(h.update([0.4, 0.55, 0.05, 0, 0, 0, 0, 0])).toBe(1);
  });
});

describe('neutral calibration', () => {
  // A resting face this user's way reads as sad to the model.
  const restingFace = [0.3, 0.02, 0.02, 0.55, 0.05, 0.02, 0.02, 0.02];

  it('makes the recorded face read as the neutral target and keeps other expressions readable', () => {
    const calibration = fitNeutralCalibration([restingFace, restingFace.map((v, i) => (i === 3 ? v - 0.05 : i === 0 ? v + 0.05 : v))]);
    expect(calibration.frames).toBe(2);
    const corrected = applyCalibration(restingFace, calibration);
    expect(argmax(corrected)).toBe(0);
    expect(corrected[0]).toBeGreaterThan(0.8);
    expect(sum(corrected)).toBeCloseTo(1, 10);
    // A clear smile from the same user still reads as a smile.
    expect(argmax(applyCalibration([0.1, 0.8, 0.02, 0.04, 0.01, 0.01, 0.01, 0.01], calibration))).toBe(1);
  });

  it('bounds the gains and refuses empty or broken recordings', () => {
    const calibration = fitNeutralCalibration([[1e-9, 1, 0, 0, 0, 0, 0, 0]]);
    for (const g of calibration.gains) {
      expect(g).toBeLessThanOrEqual(MAX_GAIN);
      expect(g).toBeGreaterThanOrEqual(1 / MAX_GAIN);
    }
    expect(() => fitNeutralCalibration([])).toThrow(/at least one frame/);
    expect(() => fitNeutralCalibration([[NaN, 0, 0, 0, 0, 0, 0, 1]])).toThrow(/non-finite/);
    expect(sum(NEUTRAL_TARGET)).toBeCloseTo(1, 10);
  });
});

describe('expression → avatar mapping table', () => {
  it('every table entry names a real ARKit blendshape / VRM preset with a weight in (0, 1]', () => {
    for (const e of EXPRESSIONS) {
      for (const [shape, w] of Object.entries(ARKIT_TABLE[e])) {
        expect(ARKIT_BLENDSHAPES).toContain(shape);
        expect(w).toBeGreaterThan(0);
        expect(w).toBeLessThanOrEqual(1);
      }
      for (const [preset, w] of Object.entries(VRM_TABLE[e])) {
        expect(VRM_PRESETS).toContain(preset);
        expect(w).toBeGreaterThan(0);
      }
    }
    expect(ARKIT_BLENDSHAPES).toHaveLength(52);
  });

  it('a confident class produces its table row; mixes blend linearly; all in 0..1', () => {
    const happy = arkitWeights(toRecord(oneHot(1)));
    expect(happy.mouthSmileLeft).toBeCloseTo(0.9);
    expect(happy.jawOpen).toBe(0);
    expect(vrmWeights(toRecord(oneHot(1)))).toEqual({ happy: 1, angry: 0, sad: 0, relaxed: 0, surprised: 0, neutral: 0 });
    const mixed = toRecord([0, 0.5, 0.5, 0, 0, 0, 0, 0]);
    expect(arkitWeights(mixed).mouthSmileLeft).toBeCloseTo(0.45);
    expect(arkitWeights(mixed).jawOpen).toBeCloseTo(0.3);
    // contempt is one-sided
    const contempt = arkitWeights(toRecord(oneHot(7)));
    expect(contempt.mouthSmileLeft).toBeGreaterThan(0);
    expect(contempt.mouthSmileRight).toBe(0);
    // fear and surprise both raise the inner brows: they add up but stay within 0..1
    const all = arkitWeights(toRecord(EXPRESSIONS.map(() => 1)));
    for (const w of Object.values(all)) expect(w).toBeLessThanOrEqual(1);
    expect(() => arkitWeights(toRecord([NaN, 0, 0, 0, 0, 0, 0, 1]))).toThrow(/probability/);
  });
});
