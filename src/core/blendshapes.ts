/**
 * Expression probabilities → avatar weights: ARKit's 52 blendshapes (the subset 8 FER+ classes can
 * drive) and the VRM 1.0 expression presets. Pure data and arithmetic: no DOM, no tfjs.
 *
 * The mapping is linear: weight(shape) = clamp01( Σ_class p(class) · TABLE[class][shape] ).
 * Probabilities sum to 1, so a table row is exactly what a fully confident class produces, and
 * mixed outputs blend smoothly. Rows are our choice (FACS-informed, not fitted to data):
 *
 * | class     | ARKit blendshapes (weight at p = 1)                                                   | VRM preset          |
 * |-----------|----------------------------------------------------------------------------------------|---------------------|
 * | neutral   | (none)                                                                                 | neutral 1           |
 * | happiness | mouthSmile L/R .9, cheekSquint L/R .5, eyeSquint L/R .3, mouthDimple L/R .2            | happy 1             |
 * | surprise  | jawOpen .6, mouthFunnel .2, browInnerUp .8, browOuterUp L/R .8, eyeWide L/R .7         | surprised 1         |
 * | sadness   | mouthFrown L/R .7, mouthLowerDown L/R .2, mouthShrugLower .3, browInnerUp .5           | sad 1               |
 * | anger     | browDown L/R .8, mouthPress L/R .5, jawForward .2, noseSneer L/R .3, eyeSquint L/R .2   | angry 1             |
 * | disgust   | noseSneer L/R .8, mouthUpperUp L/R .5, mouthShrugUpper .3, browDown L/R .4              | angry .5            |
 * | fear      | mouthStretch L/R .7, jawOpen .2, browInnerUp .7, eyeWide L/R .5                          | surprised .5, sad .3 |
 * | contempt  | mouthSmileLeft .5, mouthDimpleLeft .3, mouthPressRight .2 (one-sided: the asymmetry)    | relaxed .6          |
 *
 * Brow and eye shapes are inferred, not seen: the model only sees the lower half of the face, so
 * they follow the classes that imply them (surprise and fear raise the brows, anger lowers them).
 * VRM `relaxed` has no FER+ class; contempt's half-smile is its nearest reading.
 */
import { EXPRESSIONS, type Expression } from './labels.js';

/** Apple ARKit ARFaceAnchor.BlendShapeLocation names, the de-facto standard for face rigs. */
export const ARKIT_BLENDSHAPES = [
  'browDownLeft', 'browDownRight', 'browInnerUp', 'browOuterUpLeft', 'browOuterUpRight',
  'cheekPuff', 'cheekSquintLeft', 'cheekSquintRight',
  'eyeBlinkLeft', 'eyeBlinkRight', 'eyeLookDownLeft', 'eyeLookDownRight', 'eyeLookInLeft', 'eyeLookInRight',
  'eyeLookOutLeft', 'eyeLookOutRight', 'eyeLookUpLeft', 'eyeLookUpRight', 'eyeSquintLeft', 'eyeSquintRight',
  'eyeWideLeft', 'eyeWideRight',
  'jawForward', 'jawLeft', 'jawOpen', 'jawRight',
  'mouthClose', 'mouthDimpleLeft', 'mouthDimpleRight', 'mouthFrownLeft', 'mouthFrownRight', 'mouthFunnel',
  'mouthLeft', 'mouthLowerDownLeft', 'mouthLowerDownRight', 'mouthPressLeft', 'mouthPressRight', 'mouthPucker',
  'mouthRight', 'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower', 'mouthShrugUpper', 'mouthSmileLeft',
  'mouthSmileRight', 'mouthStretchLeft', 'mouthStretchRight', 'mouthUpperUpLeft', 'mouthUpperUpRight',
  'noseSneerLeft', 'noseSneerRight',
  'tongueOut',
] as const;
export type ArkitBlendshape = (typeof ARKIT_BLENDSHAPES)[number];

/** VRM 1.0 emotion presets (VRMC_vrm expressions.preset). */
export const VRM_PRESETS = ['happy', 'angry', 'sad', 'relaxed', 'surprised', 'neutral'] as const;
export type VrmPreset = (typeof VRM_PRESETS)[number];

type Row<K extends string> = Partial<Record<K, number>>;

/** Both sides of a symmetric shape at once: pair('mouthSmile', .9) → mouthSmileLeft/Right .9. */
function pair(stem: string, weight: number): Row<ArkitBlendshape> {
  return { [`${stem}Left`]: weight, [`${stem}Right`]: weight } as Row<ArkitBlendshape>;
}

/** The documented table above, as data. */
export const ARKIT_TABLE: Readonly<Record<Expression, Row<ArkitBlendshape>>> = {
  neutral: {},
  happiness: { ...pair('mouthSmile', 0.9), ...pair('cheekSquint', 0.5), ...pair('eyeSquint', 0.3), ...pair('mouthDimple', 0.2) },
  surprise: { jawOpen: 0.6, mouthFunnel: 0.2, browInnerUp: 0.8, ...pair('browOuterUp', 0.8), ...pair('eyeWide', 0.7) },
  sadness: { ...pair('mouthFrown', 0.7), ...pair('mouthLowerDown', 0.2), mouthShrugLower: 0.3, browInnerUp: 0.5 },
  anger: { ...pair('browDown', 0.8), ...pair('mouthPress', 0.5), jawForward: 0.2, ...pair('noseSneer', 0.3), ...pair('eyeSquint', 0.2) },
  disgust: { ...pair('noseSneer', 0.8), ...pair('mouthUpperUp', 0.5), mouthShrugUpper: 0.3, ...pair('browDown', 0.4) },
  fear: { ...pair('mouthStretch', 0.7), jawOpen: 0.2, browInnerUp: 0.7, ...pair('eyeWide', 0.5) },
  contempt: { mouthSmileLeft: 0.5, mouthDimpleLeft: 0.3, mouthPressRight: 0.2 },
};

export const VRM_TABLE: Readonly<Record<Expression, Row<VrmPreset>>> = {
  neutral: { neutral: 1 },
  happiness: { happy: 1 },
  surprise: { surprised: 1 },
  sadness: { sad: 1 },
  anger: { angry: 1 },
  disgust: { angry: 0.5 },
  fear: { surprised: 0.5, sad: 0.3 },
  contempt: { relaxed: 0.6 },
};

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

function mix<K extends string>(probabilities: Readonly<Record<Expression, number>>, table: Readonly<Record<Expression, Row<K>>>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const expression of EXPRESSIONS) {
    const p = probabilities[expression];
    if (!Number.isFinite(p)) throw new Error(`blendshapes: probability of ${expression} is ${p}`);
    for (const [shape, weight] of Object.entries(table[expression]) as [K, number][]) {
      out[shape] = (out[shape] ?? 0) + p * weight;
    }
  }
  for (const shape of Object.keys(out) as K[]) out[shape] = clamp01(out[shape]!);
  return out;
}

/** ARKit weights (0..1) for every shape some table row drives (0 when no class drives it now); the other shapes are absent. */
export function arkitWeights(probabilities: Readonly<Record<Expression, number>>): Partial<Record<ArkitBlendshape, number>> {
  return mix(probabilities, ARKIT_TABLE);
}

/** All six VRM presets (0..1), zero where no class drives them. */
export function vrmWeights(probabilities: Readonly<Record<Expression, number>>): Record<VrmPreset, number> {
  const partial = mix(probabilities, VRM_TABLE);
  return Object.fromEntries(VRM_PRESETS.map((p) => [p, partial[p] ?? 0])) as Record<VrmPreset, number>;
}

/** The probability array in EXPRESSIONS order as a record. */
export function toRecord(values: ArrayLike<number>): Record<Expression, number> {
  if (values.length !== EXPRESSIONS.length) throw new Error(`expected ${EXPRESSIONS.length} class values, got ${values.length}`);
  return Object.fromEntries(EXPRESSIONS.map((e, i) => [e, values[i]])) as Record<Expression, number>;
}
