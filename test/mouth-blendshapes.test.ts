/**
 * The mouth formulas on hand-built keypoints whose measures are known exactly: a resting face, an
 * open jaw, a one-sided smile, a narrow mouth; invariance to scale, roll and translation; the
 * screening of a collapsed landmark set; and the VRM viseme mapping.
 */
import { describe, expect, it } from 'vitest';
import {
  MOUTH_BLENDSHAPES, MOUTH_FLIP_PERMUTATION, MOUTH_RAMPS, implausibility, mirrorMouthRow, mouthBlendshapes, mouthMeasures,
  mouthTargets, mouthToVisemes, ramp, writeMouthRow, type FaceKeypoints, type MouthWeights, type Point2,
} from '../src/core/mouth-blendshapes.js';

/**
 * A frontal face in 48-px pixels, eye distance 18 (eyes at x 15 and 33, y 18), mouth 1.1 IOD below
 * the eyes. Offsets in IOD units: corners at ±halfWidth and lift; an inner gap of `opening`.
 */
function face({ halfWidth = 0.4, liftLeft = 0, liftRight = 0, opening = 0, shift = 0, upperLip = 0.09, lowerLip = 0.14 } = {}): FaceKeypoints {
  const iod = 18;
  const cx = 24;
  const eyeY = 18;
  const at = (x: number, y: number): Point2 => [cx + x * iod, eyeY + y * iod];
  const line = 1.1;
  return {
    // Subject's right eye is on the image's left.
    eyeRight: at(-0.5, 0), eyeLeft: at(0.5, 0),
    noseBase: at(0, 0.75), chin: at(0, 1.75),
    cornerRight: at(shift - halfWidth, line - liftRight), cornerLeft: at(shift + halfWidth, line - liftLeft),
    upperLipBottom: at(shift, line - opening / 2), upperLipTop: at(shift, line - opening / 2 - upperLip),
    lowerLipTop: at(shift, line + opening / 2), lowerLipBottom: at(shift, line + opening / 2 + lowerLip),
  };
}

/** Every point turned by `angle` about (cx, cy), scaled by s, then moved by (tx, ty). */
function transform(k: FaceKeypoints, angle: number, s: number, tx: number, ty: number): FaceKeypoints {
  const c = Math.cos(angle);
  const n = Math.sin(angle);
  const out = {} as Record<keyof FaceKeypoints, Point2>;
  for (const [key, [x, y]] of Object.entries(k) as [keyof FaceKeypoints, Point2][]) {
    const dx = x - 24;
    const dy = y - 24;
    out[key] = [24 + s * (c * dx - n * dy) + tx, 24 + s * (n * dx + c * dy) + ty];
  }
  return out;
}

describe('mouth measures', () => {
  it('reads opening, width, lift and shift in eye-distance units', () => {
    const m = mouthMeasures(face({ halfWidth: 0.45, opening: 0.3, liftLeft: 0.1, liftRight: -0.05, shift: 0.1 }));
    expect(m.iod).toBeCloseTo(18, 6);
    expect(m.opening).toBeCloseTo(0.3, 6);
    expect(m.width).toBeCloseTo(Math.hypot(0.9, 0.15), 6);
    expect(m.liftLeft).toBeCloseTo(0.1, 6);
    expect(m.liftRight).toBeCloseTo(-0.05, 6);
    expect(m.shift).toBeCloseTo(0.1, 6);
    expect(m.reachLeft).toBeCloseTo(0.45, 6);
    expect(m.reachRight).toBeCloseTo(0.45, 6);
    expect(m.upperLip).toBeCloseTo(0.09, 6);
    expect(m.lowerLip).toBeCloseTo(0.14, 6);
  });

  it('does not change when the head is rolled, scaled or moved', () => {
    const k = face({ halfWidth: 0.45, opening: 0.3, liftLeft: 0.1, shift: -0.08 });
    const a = mouthMeasures(k);
    const b = mouthMeasures(transform(k, 0.3, 1.7, 5, -3));
    for (const key of ['opening', 'width', 'liftLeft', 'liftRight', 'shift', 'reachLeft', 'upperLip', 'mouthDrop'] as const) {
      expect(b[key]).toBeCloseTo(a[key], 9);
    }
    expect(b.roll).toBeCloseTo(0.3, 9);
  });
});

describe('mouth blendshapes', () => {
  const weights = (k: FaceKeypoints): MouthWeights => mouthBlendshapes(mouthMeasures(k));

  it('is near zero for a resting face and every weight lies in [0, 1]', () => {
    const w = weights(face());
    for (const name of MOUTH_BLENDSHAPES) {
      expect(w[name]).toBeGreaterThanOrEqual(0);
      expect(w[name]).toBeLessThanOrEqual(1);
    }
    expect(w.jawOpen).toBe(0);
    expect(w.mouthSmileLeft + w.mouthSmileRight + w.mouthFrownLeft + w.mouthFrownRight).toBe(0);
    expect(w.mouthLeft + w.mouthRight + w.mouthPucker + w.mouthFunnel).toBe(0);
  });

  it('opens the jaw in proportion to the inner-lip gap, saturating at 1', () => {
    const [a, b] = MOUTH_RAMPS.opening;
    expect(weights(face({ opening: (a + b) / 2 })).jawOpen).toBeCloseTo(0.5, 6);
    expect(weights(face({ opening: 2 })).jawOpen).toBe(1);
  });

  it('smiles on the side whose corner is raised, in the subject\'s frame', () => {
    const w = weights(face({ liftLeft: MOUTH_RAMPS.lift[1] }));
    expect(w.mouthSmileLeft).toBeCloseTo(1, 6);
    expect(w.mouthSmileRight).toBe(0);
    const f = weights(face({ liftRight: -MOUTH_RAMPS.drop[1] }));
    expect(f.mouthFrownRight).toBeCloseTo(1, 6);
    expect(f.mouthFrownLeft).toBe(0);
  });

  it('stretches a wide mouth without raised corners, and not a smiling one', () => {
    const wide = weights(face({ halfWidth: MOUTH_RAMPS.reach[1] }));
    expect(wide.mouthStretchLeft).toBeCloseTo(1, 6);
    expect(wide.mouthStretchRight).toBeCloseTo(1, 6);
    const grin = weights(face({ halfWidth: MOUTH_RAMPS.reach[1], liftLeft: 1, liftRight: 1 }));
    expect(grin.mouthStretchLeft).toBe(0);
    expect(grin.mouthSmileLeft).toBe(1);
  });

  it('tells a pucker (narrow, closed) from a funnel (narrow, open)', () => {
    const narrowHalf = MOUTH_RAMPS.narrowing[1] / 2;
    const pucker = weights(face({ halfWidth: narrowHalf }));
    expect(pucker.mouthPucker).toBeCloseTo(1, 6);
    expect(pucker.mouthFunnel).toBe(0);
    const funnel = weights(face({ halfWidth: narrowHalf, opening: 1 }));
    expect(funnel.mouthFunnel).toBeCloseTo(1, 6);
    expect(funnel.mouthPucker).toBe(0);
  });

  it('moves the mouth to the side its centre shifted to, and rolls thinned lips', () => {
    const w = weights(face({ shift: MOUTH_RAMPS.shift[1] }));
    expect(w.mouthLeft).toBeCloseTo(1, 6);
    expect(w.mouthRight).toBe(0);
    const rolled = weights(face({ upperLip: MOUTH_RAMPS.upperLip[1], lowerLip: MOUTH_RAMPS.lowerLip[1] }));
    expect(rolled.mouthRollUpper).toBeCloseTo(1, 6);
    expect(rolled.mouthRollLower).toBeCloseTo(1, 6);
  });

  it('writes a row in MOUTH_BLENDSHAPES order', () => {
    const w = weights(face({ opening: 2, liftLeft: 1 }));
    const row = new Float32Array(MOUTH_BLENDSHAPES.length + 2).fill(-1);
    writeMouthRow(w, row, 1);
    expect(row[0]).toBe(-1);
    expect(row[1 + MOUTH_BLENDSHAPES.indexOf('jawOpen')]).toBe(1);
    expect(row[1 + MOUTH_BLENDSHAPES.indexOf('mouthSmileLeft')]).toBe(1);
    expect(row[row.length - 1]).toBe(-1);
  });

  it('ramp is 0 below rest, 1 beyond full, linear between, and works for falling ramps', () => {
    expect(ramp(0, 1, 3)).toBe(0);
    expect(ramp(2, 1, 3)).toBe(0.5);
    expect(ramp(9, 1, 3)).toBe(1);
    expect(ramp(0.5, 1, 0)).toBe(0.5);
    expect(ramp(-1, 1, 0)).toBe(1);
  });
});

describe('horizontal flip', () => {
  /** The same face in the mirrored image: x reflected, and the subject's sides swap names. */
  function mirrorImage(k: FaceKeypoints): FaceKeypoints {
    const m = (p: Point2): Point2 => [48 - p[0], p[1]];
    return {
      eyeRight: m(k.eyeLeft), eyeLeft: m(k.eyeRight), cornerRight: m(k.cornerLeft), cornerLeft: m(k.cornerRight),
      noseBase: m(k.noseBase), chin: m(k.chin),
      upperLipTop: m(k.upperLipTop), upperLipBottom: m(k.upperLipBottom), lowerLipTop: m(k.lowerLipTop), lowerLipBottom: m(k.lowerLipBottom),
    };
  }
  const row = (k: FaceKeypoints) => {
    const out = new Float32Array(MOUTH_BLENDSHAPES.length);
    writeMouthRow(mouthBlendshapes(mouthMeasures(k)), out);
    return out;
  };

  it('swaps exactly the Left/Right pairs and is its own inverse', () => {
    const swapped = MOUTH_FLIP_PERMUTATION.map((from, k) => [MOUTH_BLENDSHAPES[k], MOUTH_BLENDSHAPES[from]]).filter(([a, b]) => a !== b);
    expect(Object.fromEntries(swapped)).toEqual({
      mouthSmileLeft: 'mouthSmileRight', mouthSmileRight: 'mouthSmileLeft', mouthFrownLeft: 'mouthFrownRight', mouthFrownRight: 'mouthFrownLeft',
      mouthStretchLeft: 'mouthStretchRight', mouthStretchRight: 'mouthStretchLeft', mouthLeft: 'mouthRight', mouthRight: 'mouthLeft',
    });
    MOUTH_FLIP_PERMUTATION.forEach((from, k) => expect(MOUTH_FLIP_PERMUTATION[from]).toBe(k));
  });

  it('gives the weights the formulas compute on the mirrored image', () => {
    // One-sided, shifted, open faces: every swapped pair differs, so a wrong swap shows.
    for (const k of [face({ liftLeft: 0.1, shift: 0.12, halfWidth: 0.5 }), face({ liftRight: -0.08, liftLeft: 0.03, shift: -0.15, opening: 0.2 })]) {
      const flipped = new Float32Array(MOUTH_BLENDSHAPES.length);
      mirrorMouthRow(row(k), 0, flipped);
      const expected = row(mirrorImage(k));
      flipped.forEach((v, i) => expect(v, MOUTH_BLENDSHAPES[i]).toBeCloseTo(expected[i], 5));
      expect(Array.from(flipped)).not.toEqual(Array.from(row(k)));
    }
  });
});

describe('screening', () => {
  it('accepts ordinary faces and rejects a collapsed or scrambled landmark set with a reason', () => {
    expect(implausibility(mouthMeasures(face()))).toBeNull();
    expect(implausibility(mouthMeasures(face({ opening: 0.9, halfWidth: 0.55 })))).toBeNull();
    // A collapsed set: the same face shrunk to a third about its centre.
    const collapsed = mouthTargets(transform(face(), 0, 1 / 3, 0, 0));
    expect('rejected' in collapsed && collapsed.rejected).toBe('eye distance');
    // The same shrunk face is fine when the caller says its pixels are 3x smaller than the face's.
    expect('weights' in mouthTargets(transform(face(), 0, 1 / 3, 0, 0), 3)).toBe(true);
    expect(implausibility(mouthMeasures(transform(face(), 0.8, 1, 0, 0)))).toBe('roll');
    const swapped = face();
    expect(implausibility(mouthMeasures({ ...swapped, cornerLeft: swapped.cornerRight, cornerRight: swapped.cornerLeft }))).toBe('corner side');
    expect(implausibility(mouthMeasures({ ...swapped, chin: swapped.noseBase }))).toBe('chin height');
    const nan = { ...swapped, chin: [NaN, NaN] as Point2 };
    expect(implausibility(mouthMeasures(nan))).toBe('chin height');
  });
});

describe('VRM visemes', () => {
  const base: Parameters<typeof mouthToVisemes>[0] = {
    jawOpen: 0, mouthSmileLeft: 0, mouthSmileRight: 0, mouthStretchLeft: 0, mouthStretchRight: 0, mouthPucker: 0, mouthFunnel: 0,
  };
  it('maps each mouth shape to its vowel and a closed neutral mouth to silence', () => {
    expect(Object.values(mouthToVisemes(base)).every((v) => v === 0)).toBe(true);
    expect(mouthToVisemes({ ...base, jawOpen: 1 }).aa).toBe(1);
    expect(mouthToVisemes({ ...base, mouthPucker: 1 }).ou).toBe(1);
    expect(mouthToVisemes({ ...base, jawOpen: 1, mouthFunnel: 1 })).toMatchObject({ oh: 1, aa: 0 });
    expect(mouthToVisemes({ ...base, mouthSmileLeft: 1, mouthSmileRight: 1 }).ee).toBe(1);
    const half = mouthToVisemes({ ...base, jawOpen: 0.5 });
    expect(half.ih).toBeGreaterThan(half.ee);
    expect(half.ih).toBeGreaterThan(0.4);
  });

  it('never sums above 1 and treats NaN as 0', () => {
    const v = mouthToVisemes({ ...base, jawOpen: 0.5, mouthFunnel: 0.9, mouthPucker: 0.8, mouthSmileLeft: NaN });
    const total = Object.values(v).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(1 + 1e-9);
    expect(Object.values(v).every(Number.isFinite)).toBe(true);
  });
});
