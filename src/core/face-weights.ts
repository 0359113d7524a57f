/**
 * One tracked frame → what an avatar's face is given: ARKit blendshapes, VRM presets and, when the
 * model measures the mouth, VRM visemes. The one place that combines the two heads of a model; the
 * tracker calls it on the main thread whichever engine (worker or local) ran the model. Pure.
 *
 * Without the mouth head (mouth = null) this is exactly the expression mapping (blendshapes.ts).
 * With it:
 *   - the 13 measured mouth weights (MOUTH_BLENDSHAPES) are the mouth and jaw: every ARKit name
 *     that starts with "mouth" or "jaw" comes from the measurement, and those the head does not
 *     measure (mouthPress, mouthDimple, jawForward …) are 0. A mouth shape inferred from a class
 *     would fight the measured lips: anger's pressed lips on a mouth that is talking, surprise's
 *     open jaw on one that has closed.
 *   - brows, eyes, cheeks and nose still follow the classes: the camera does not see them.
 *   - the VRM presets follow the classes as before, and visemes (aa ih ou ee oh) follow the
 *     measured mouth (mouthToVisemes), for VRM avatars that have no ARKit mouth shapes.
 */
import { arkitWeights, vrmWeights, type ArkitBlendshape, type VrmPreset } from './blendshapes.js';
import type { Expression } from './labels.js';
import { MOUTH_BLENDSHAPES, mouthToVisemes, NUM_MOUTH_BLENDSHAPES, type MouthWeights, type VrmViseme } from './mouth-blendshapes.js';

export interface FaceWeights {
  /** 0..1: the expression mapping's shapes, with the mouth and jaw measured when the model can */
  blendshapes: Partial<Record<ArkitBlendshape, number>>;
  /** 0..1: the six VRM presets, from the classes */
  vrm: Record<VrmPreset, number>;
  /** 0..1: VRM visemes from the measured mouth; null without the mouth head */
  visemes: Record<VrmViseme, number> | null;
}

/** The ARKit names the mouth head speaks for: its own 13 and every other mouth or jaw shape. */
export function isMouthShape(name: string): boolean {
  return name.startsWith('mouth') || name.startsWith('jaw');
}

/** The mouth head's values in MOUTH_BLENDSHAPES order as a record. */
export function toMouthRecord(values: ArrayLike<number>): MouthWeights {
  if (values.length !== NUM_MOUTH_BLENDSHAPES) throw new Error(`expected ${NUM_MOUTH_BLENDSHAPES} mouth weights, got ${values.length}`);
  return Object.fromEntries(MOUTH_BLENDSHAPES.map((name, i) => [name, values[i]])) as MouthWeights;
}

export function faceWeights(probabilities: Readonly<Record<Expression, number>>, mouth: Readonly<MouthWeights> | null): FaceWeights {
  const fromClasses = arkitWeights(probabilities);
  const vrm = vrmWeights(probabilities);
  if (!mouth) return { blendshapes: fromClasses, vrm, visemes: null };
  const blendshapes: Partial<Record<ArkitBlendshape, number>> = {};
  for (const [name, weight] of Object.entries(fromClasses) as [ArkitBlendshape, number][]) blendshapes[name] = isMouthShape(name) ? 0 : weight;
  for (const name of MOUTH_BLENDSHAPES) {
    const w = mouth[name];
    if (!Number.isFinite(w)) throw new Error(`faceWeights: mouth weight ${name} is ${w}`);
    blendshapes[name] = Math.min(1, Math.max(0, w));
  }
  return { blendshapes, vrm, visemes: mouthToVisemes(mouth) };
}
