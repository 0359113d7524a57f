/**
 * The measured mouth combined with the expression mapping (src/core/face-weights.ts), its smoothing
 * and neutral correction (src/core/smoothing.ts, calibration.ts), and where the combined weights go:
 * every measured name reaches the OSC conventions.
 */
import { describe, expect, it } from 'vitest';
import { ARKIT_BLENDSHAPES, arkitWeights, toRecord, vrmWeights, type ArkitBlendshape } from '../src/core/blendshapes.js';
import { applyMouthRest, CalibrationError, fitMouthRest, MAX_MOUTH_REST } from '../src/core/calibration.js';
import { faceWeights, isMouthShape, toMouthRecord } from '../src/core/face-weights.js';
import { EXPRESSIONS, type Expression } from '../src/core/labels.js';
import { MOUTH_BLENDSHAPES, mouthToVisemes, type MouthWeights } from '../src/core/mouth-blendshapes.js';
import { DEFAULT_MOUTH_ONE_EURO, ProbabilitySmoother, VectorSmoother } from '../src/core/smoothing.js';
import { pearson } from '../tools/mouth/stats.js';
import { ARKIT_TO_UNIFIED, toParameters } from '../tools/osc/conventions.js';

const classes = (named: Partial<Record<Expression, number>>) => toRecord(EXPRESSIONS.map((e) => named[e] ?? 0));
const mouth = (named: Partial<MouthWeights>): MouthWeights => toMouthRecord(MOUTH_BLENDSHAPES.map((n) => named[n] ?? 0));

describe('faceWeights: expression mapping and measured mouth', () => {
  const mixed = classes({ happiness: 0.5, surprise: 0.3, anger: 0.2 });

  it('without a mouth it is the expression mapping, unchanged', () => {
    expect(faceWeights(mixed, null)).toEqual({ blendshapes: arkitWeights(mixed), vrm: vrmWeights(mixed), visemes: null });
  });

  it('with a mouth: mouth and jaw measured, the rest of the face from the classes', () => {
    const measured = mouth({ jawOpen: 0.7, mouthSmileLeft: 0.1, mouthRollLower: 0.4, mouthRight: 0.25 });
    const { blendshapes, vrm, visemes } = faceWeights(mixed, measured);
    const fromClasses = arkitWeights(mixed);
    for (const name of MOUTH_BLENDSHAPES) expect(blendshapes[name], name).toBe(measured[name]);
    for (const [name, w] of Object.entries(fromClasses) as [ArkitBlendshape, number][]) {
      // Class-driven mouth shapes the head does not measure (anger's press, happiness's dimple) are off.
      if (isMouthShape(name) && !(MOUTH_BLENDSHAPES as readonly string[]).includes(name)) expect(blendshapes[name], name).toBe(0);
      if (!isMouthShape(name)) expect(blendshapes[name], name).toBe(w);
    }
    expect(fromClasses.mouthPressLeft).toBeGreaterThan(0);
    expect(blendshapes.browDownLeft).toBeGreaterThan(0);
    expect(blendshapes.cheekSquintLeft).toBeGreaterThan(0);
    expect(vrm).toEqual(vrmWeights(mixed));
    expect(visemes).toEqual(mouthToVisemes(measured));
    expect(visemes!.aa).toBeGreaterThan(0.5);
  });

  it('names only ARKit shapes, clamps to 0..1 and refuses a non-finite weight', () => {
    const { blendshapes } = faceWeights(mixed, mouth({ jawOpen: 1.2, mouthPucker: -0.1 }));
    for (const name of Object.keys(blendshapes)) expect(ARKIT_BLENDSHAPES).toContain(name);
    expect(blendshapes.jawOpen).toBe(1);
    expect(blendshapes.mouthPucker).toBe(0);
    expect(() => faceWeights(mixed, mouth({ jawOpen: NaN }))).toThrow(/jawOpen/);
    expect(() => toMouthRecord([0.1, 0.2])).toThrow(/13 mouth weights/);
  });

  it('every measured name reaches OSC, in both conventions', () => {
    const weights = faceWeights(mixed, mouth({ jawOpen: 0.5 })).blendshapes as Record<string, number>;
    for (const name of MOUTH_BLENDSHAPES) expect(ARKIT_TO_UNIFIED[name], name).toBeDefined();
    expect(toParameters(weights).unknown).toEqual([]);
    expect(toParameters(weights).params).toContainEqual(['/avatar/parameters/FT/v2/JawOpen', 0.5]);
    const arkit = new Map(toParameters(weights, { convention: 'arkit' }).params);
    for (const name of MOUTH_BLENDSHAPES) expect(arkit.has(`/avatar/parameters/${name}`), name).toBe(true);
  });
});

describe('mouth smoothing', () => {
  it('clamps each value to its range and does not renormalise', () => {
    const smoother = new VectorSmoother(3, DEFAULT_MOUTH_ONE_EURO, 0, 1);
    expect(Array.from(smoother.smooth([0.2, 1.4, -0.3], 0))).toEqual([0.2, 1, 0]);
    expect(() => smoother.smooth([0.1], 33)).toThrow(/expected 3 values/);
  });

  it('follows a 4 Hz jaw closely where the expression defaults lag it', () => {
    const lagCorrelation = (smoother: VectorSmoother | ProbabilitySmoother) => {
      const xs: number[] = [], ys: number[] = [];
      for (let i = 0; i < 150; i++) {
        const t = i * 33;
        const x = 0.5 + 0.4 * Math.sin((2 * Math.PI * 4 * t) / 1000);
        const y = smoother instanceof VectorSmoother ? smoother.smooth([x], t)[0] : smoother.smooth([x, 1 - x], t)[0];
        if (i >= 30) { xs.push(x); ys.push(y); }
      }
      return pearson(xs, ys);
    };
    expect(lagCorrelation(new VectorSmoother(1, DEFAULT_MOUTH_ONE_EURO, 0, 1))).toBeGreaterThan(0.9);
    expect(lagCorrelation(new ProbabilitySmoother(2))).toBeLessThan(0.9);
  });

  it('still calms the jitter of a resting mouth', () => {
    const smoother = new VectorSmoother(1, DEFAULT_MOUTH_ONE_EURO, 0, 1);
    let raw = 0, smoothed = 0;
    for (let i = 0; i < 300; i++) {
      const noise = Math.sin(i * 12.9898) * 0.05;
      const y = smoother.smooth([0.2 + noise], i * 33)[0];
      if (i > 30) { raw += noise ** 2; smoothed += (y - 0.2) ** 2; }
    }
    expect(smoothed).toBeLessThan(0.8 * raw);
  });
});

describe('mouth rest calibration', () => {
  it('maps the rest level to 0 and keeps 1 at 1', () => {
    const rest = fitMouthRest([[0.1, 0.3, 0], [0.3, 0.3, 0]]);
    expect(Array.from(rest)).toEqual([0.2, 0.3, 0].map((v) => expect.closeTo(v, 10)));
    const out = applyMouthRest([0.2, 1, 0.5], rest);
    expect(out[0]).toBeCloseTo(0, 10);
    expect(out[1]).toBeCloseTo(1, 10);
    expect(out[2]).toBeCloseTo(0.5, 10);
    expect(applyMouthRest([0.05], [0.2])[0]).toBe(0);
  });

  it('caps the rest level: a recording with the mouth open cannot silence the jaw', () => {
    expect(fitMouthRest([[0.9]])[0]).toBe(MAX_MOUTH_REST);
    expect(applyMouthRest([1], fitMouthRest([[0.9]]))[0]).toBe(1);
  });

  it('refuses empty, ragged or broken recordings', () => {
    expect(() => fitMouthRest([])).toThrow(CalibrationError);
    expect(() => fitMouthRest([[0.1, 0.2], [0.1]])).toThrow(/expected 2/);
    expect(() => fitMouthRest([[NaN]])).toThrow(/non-finite/);
  });
});
