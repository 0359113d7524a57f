/**
 * Face landmarks → ARKit-named mouth blendshapes in [0, 1]: the targets of the mouth head, computed
 * by a landmark teacher on whole faces (tools/mouth). Every formula lives in this file. Pure
 * arithmetic: no DOM, no tfjs.
 *
 * PART 1 — measures. All distances are taken in the face's own frame and divided by the distance
 * between the eye centres (IOD), so head size, roll and image scale drop out:
 *   origin  = midpoint of the eye centres;  x axis = towards the subject's LEFT eye;  y axis = down.
 * "Left"/"Right" are always the subject's sides (ARKit's convention): in an unmirrored photo the
 * subject's left is the image's right.
 *   opening      inner-lip gap at the centre (lower lip's top − upper lip's bottom)
 *   width        corner-to-corner distance
 *   lift(side)   how far the corner sits ABOVE the lip line (mean of the inner lip centres); < 0 below
 *   reach(side)  how far the corner sits sideways from the lip centre (mean of the four centre lip
 *                points): half the mouth's width on that side. Taken from the lip centre, not the
 *                nose, because a turned head moves the nose sideways far more than the lips.
 *   shift        mouth centre (mean of the corners) sideways from the nose base, + = subject's left
 *   upperLip / lowerLip  vermilion height at the centre (outer − inner lip contour)
 *
 * PART 2 — blendshapes, each a linear ramp between a resting and a full value of one measure,
 * ramp(x, a, b) = clamp((x − a) / (b − a), 0, 1). The (a, b) pairs are in MOUTH_RAMPS below: they
 * were read off the face mesh teacher's measures on 1,200 FER2013Valid faces (docs/mouth.md): a ≈ the
 * median of neutral faces (rest gives 0), b ≈ the 95th percentile of the class that shows the shape
 * most (surprise for jawOpen, happiness for smile ...), so the targets use the whole [0, 1] range.
 *
 * PART 3 — VRM visemes (aa ih ou ee oh) from the mouth weights, for avatars that only have those.
 *
 * PART 4 — screening. A landmark net always answers, even for a face it cannot place (FER's
 * blurred, occluded, extreme faces collapse to a small average-shaped blob), so implausible
 * geometry marks the face missing: its targets are NaN and it is left out of the mouth loss.
 */

export type Point2 = readonly [number, number];

/** The few points the formulas need, in pixels of any image (the 48-px face in tools/mouth). */
export interface FaceKeypoints {
  eyeRight: Point2; eyeLeft: Point2;
  noseBase: Point2; chin: Point2;
  cornerRight: Point2; cornerLeft: Point2;
  /** Centre of the upper lip: its top (outer) and bottom (inner) edge. */
  upperLipTop: Point2; upperLipBottom: Point2;
  /** Centre of the lower lip: its top (inner) and bottom (outer) edge. */
  lowerLipTop: Point2; lowerLipBottom: Point2;
}

/** Version of the formulas and ramps: part of the target cache's fingerprint. Bump on any change. */
export const MOUTH_FORMULA_VERSION = 1;

/** The mouth head's outputs, in this order (the head's K sigmoid units, the cache's columns). */
export const MOUTH_BLENDSHAPES = [
  'jawOpen',
  'mouthSmileLeft', 'mouthSmileRight',
  'mouthFrownLeft', 'mouthFrownRight',
  'mouthStretchLeft', 'mouthStretchRight',
  'mouthPucker', 'mouthFunnel',
  'mouthRollUpper', 'mouthRollLower',
  'mouthLeft', 'mouthRight',
] as const;
export type MouthBlendshape = (typeof MOUTH_BLENDSHAPES)[number];
export const NUM_MOUTH_BLENDSHAPES = MOUTH_BLENDSHAPES.length;

export interface MouthMeasures {
  /** Eye-centre distance in the keypoints' pixels: the unit of everything else. */
  iod: number;
  /** Roll of the eye line, radians, + = clockwise in the image. */
  roll: number;
  opening: number;
  width: number;
  liftLeft: number; liftRight: number;
  reachLeft: number; reachRight: number;
  shift: number;
  upperLip: number; lowerLip: number;
  /** Vertical positions below the eye line, for screening: nose base, lip line, chin. */
  noseDrop: number; mouthDrop: number; chinDrop: number;
}

export function mouthMeasures(k: FaceKeypoints): MouthMeasures {
  const ox = (k.eyeLeft[0] + k.eyeRight[0]) / 2;
  const oy = (k.eyeLeft[1] + k.eyeRight[1]) / 2;
  const dx = k.eyeLeft[0] - k.eyeRight[0];
  const dy = k.eyeLeft[1] - k.eyeRight[1];
  const iod = Math.hypot(dx, dy);
  // Unit axes: x along the eye line (towards the subject's left eye), y perpendicular, downwards.
  const ux = dx / iod;
  const uy = dy / iod;
  const frame = (p: Point2): [number, number] => {
    const px = p[0] - ox;
    const py = p[1] - oy;
    return [(px * ux + py * uy) / iod, (-px * uy + py * ux) / iod];
  };
  const [cRx, cRy] = frame(k.cornerRight);
  const [cLx, cLy] = frame(k.cornerLeft);
  const [nx, ny] = frame(k.noseBase);
  const [utx, ut] = frame(k.upperLipTop);
  const [ubx, ub] = frame(k.upperLipBottom);
  const [ltx, lt] = frame(k.lowerLipTop);
  const [lbx, lb] = frame(k.lowerLipBottom);
  const lipCentre = (utx + ubx + ltx + lbx) / 4;
  const lipLine = (ub + lt) / 2;
  return {
    iod,
    roll: Math.atan2(dy, dx),
    opening: lt - ub,
    width: Math.hypot(cLx - cRx, cLy - cRy),
    liftLeft: lipLine - cLy,
    liftRight: lipLine - cRy,
    reachLeft: cLx - lipCentre,
    reachRight: lipCentre - cRx,
    shift: (cLx + cRx) / 2 - nx,
    upperLip: ub - ut,
    lowerLip: lb - lt,
    noseDrop: ny,
    mouthDrop: lipLine,
    chinDrop: frame(k.chin)[1],
  };
}

/**
 * Bounds of a plausible face, in IOD units (except iodPixels). Wide enough to keep every expression
 * FER+ holds (a scream's opening, a grin's width), narrow enough to reject a collapsed landmark set
 * (all points pulled into a small average face), a roll no FER crop has, or lips in the wrong order.
 */
export const PLAUSIBLE = {
  /** Eye distance in 48-px face pixels: FER crops put it near 18; a collapsed set shrinks it. */
  iodPixels: [10, 36],
  roll: 0.5,
  noseDrop: [0.35, 1.3],
  /** Lip line below the nose base by at least this. */
  noseToMouth: 0.1,
  mouthDrop: [0.6, 1.9],
  /** Chin below the lip line by at least this, and no further below the eyes than chinDrop[1]. */
  mouthToChin: 0.25,
  chinDrop: 3.2,
  width: [0.4, 1.6],
  shift: 0.45,
  /** Lips may touch but not cross: inner gap and lip heights above these. */
  opening: -0.15,
  lipHeight: -0.05,
  /** Each corner at least this far out on its own side of the lip centre. */
  reach: 0.1,
} as const;

/** Why a landmark set is not a face the formulas can use, or null when it is. */
export function implausibility(m: MouthMeasures, iodPixelsScale = 1): string | null {
  const P = PLAUSIBLE;
  const iodPx = m.iod * iodPixelsScale;
  if (!(iodPx >= P.iodPixels[0] && iodPx <= P.iodPixels[1])) return 'eye distance';
  if (Math.abs(m.roll) > P.roll) return 'roll';
  if (!(m.noseDrop >= P.noseDrop[0] && m.noseDrop <= P.noseDrop[1])) return 'nose height';
  if (!(m.mouthDrop >= P.mouthDrop[0] && m.mouthDrop <= P.mouthDrop[1]) || m.mouthDrop < m.noseDrop + P.noseToMouth) return 'mouth height';
  if (!(m.chinDrop >= m.mouthDrop + P.mouthToChin && m.chinDrop <= P.chinDrop)) return 'chin height';
  if (!(m.width >= P.width[0] && m.width <= P.width[1])) return 'mouth width';
  if (!(Math.abs(m.shift) <= P.shift)) return 'mouth off centre';
  if (!(m.opening >= P.opening) || !(m.upperLip >= P.lipHeight) || !(m.lowerLip >= P.lipHeight)) return 'lip order';
  if (!(m.reachLeft >= P.reach && m.reachRight >= P.reach)) return 'corner side';
  return null;
}

/** clamp((x − a) / (b − a), 0, 1): 0 at rest (a), 1 at the full shape (b). */
export function ramp(x: number, a: number, b: number): number {
  const t = (x - a) / (b - a);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** [rest, full] of each measure a blendshape reads (IOD units); see the header for how they were set. */
export const MOUTH_RAMPS = {
  /** Inner-lip gap: neutral median 0.004, surprise 95th percentile 0.57. */
  opening: [0.02, 0.55],
  /** Corner above the lip line (smile): neutral median 0.00, happiness 95th percentile 0.19. */
  lift: [0.01, 0.19],
  /** Corner below it (frown): neutral 5th percentile −0.07, all faces' 2nd percentile −0.09. */
  drop: [0.01, 0.09],
  /** Corner's sideways distance from the lip centre (stretch): neutral median 0.37, 95th 0.52-0.54. */
  reach: [0.42, 0.6],
  /** Mouth width, falling (pucker, funnel): neutral median 0.74, surprise 5th percentile 0.48. */
  narrowing: [0.7, 0.52],
  /** Vermilion height, falling (lip roll): neutral medians 0.095 / 0.15, all faces' 2nd percentiles 0.05 / 0.08. */
  upperLip: [0.095, 0.05],
  lowerLip: [0.15, 0.08],
  /** Mouth centre's sideways shift from the nose base: neutral 5th-95th percentiles ±0.19. */
  shift: [0.05, 0.22],
} as const;

export type MouthWeights = Record<MouthBlendshape, number>;

/**
 * The ARKit mouth weights of one face, each in [0, 1]:
 *   jawOpen          = ramp(opening)
 *   mouthSmile{S}    = ramp(lift{S})                 corner raised above the lip line
 *   mouthFrown{S}    = ramp(−lift{S})                corner pulled below it
 *   mouthStretch{S}  = ramp(reach{S}) · (1 − smile{S})   sideways pull that is not a smile
 *   narrow           = ramp(width, narrowing)        mouth narrower than at rest
 *   mouthPucker      = narrow · (1 − jawOpen)        narrow and closed: lips pushed together forward
 *   mouthFunnel      = narrow · jawOpen              narrow and open: an O
 *   mouthRollUpper   = ramp(upperLip)                upper lip's red part thinned (rolled in)
 *   mouthRollLower   = ramp(lowerLip)
 *   mouthLeft/Right  = ramp(±shift)                  whole mouth moved to the subject's left/right
 */
export function mouthBlendshapes(m: MouthMeasures): MouthWeights {
  const R = MOUTH_RAMPS;
  const jawOpen = ramp(m.opening, ...R.opening);
  const smileL = ramp(m.liftLeft, ...R.lift);
  const smileR = ramp(m.liftRight, ...R.lift);
  const narrow = ramp(m.width, ...R.narrowing);
  return {
    jawOpen,
    mouthSmileLeft: smileL,
    mouthSmileRight: smileR,
    mouthFrownLeft: ramp(-m.liftLeft, ...R.drop),
    mouthFrownRight: ramp(-m.liftRight, ...R.drop),
    mouthStretchLeft: ramp(m.reachLeft, ...R.reach) * (1 - smileL),
    mouthStretchRight: ramp(m.reachRight, ...R.reach) * (1 - smileR),
    mouthPucker: narrow * (1 - jawOpen),
    mouthFunnel: narrow * jawOpen,
    mouthRollUpper: ramp(m.upperLip, ...R.upperLip),
    mouthRollLower: ramp(m.lowerLip, ...R.lowerLip),
    mouthLeft: ramp(m.shift, ...R.shift),
    mouthRight: ramp(-m.shift, ...R.shift),
  };
}

/** The weights in MOUTH_BLENDSHAPES order, written into out at offset (the cache's row layout). */
export function writeMouthRow(w: MouthWeights, out: Float32Array, offset = 0): void {
  MOUTH_BLENDSHAPES.forEach((name, i) => { out[offset + i] = w[name]; });
}

/** The blendshape a horizontally mirrored face shows instead: Left ↔ Right, the rest unchanged. */
export function mirroredBlendshape(name: MouthBlendshape): MouthBlendshape {
  const swapped = name.endsWith('Left') ? `${name.slice(0, -4)}Right` : name.endsWith('Right') ? `${name.slice(0, -5)}Left` : name;
  if (!(MOUTH_BLENDSHAPES as readonly string[]).includes(swapped)) throw new Error(`${name} has no mirrored blendshape ${swapped}`);
  return swapped as MouthBlendshape;
}

/**
 * Column permutation of a mirrored face: its row's column k holds the unmirrored row's column
 * MOUTH_FLIP_PERMUTATION[k]. The one place that knows which weights a horizontal flip swaps
 * (training augmentation, and anything that mirrors a camera image). "Left" is the subject's side,
 * so mirroring the image turns a left smile into a right one, and mouthLeft into mouthRight.
 */
export const MOUTH_FLIP_PERMUTATION: readonly number[] = MOUTH_BLENDSHAPES.map((name) => MOUTH_BLENDSHAPES.indexOf(mirroredBlendshape(name)));

/** Writes the mirrored face's row (K values at src[srcOffset..]) to out[outOffset..]; src and out must not overlap. */
export function mirrorMouthRow(src: ArrayLike<number>, srcOffset: number, out: Float32Array, outOffset = 0): void {
  MOUTH_FLIP_PERMUTATION.forEach((from, k) => { out[outOffset + k] = src[srcOffset + from]; });
}

/**
 * A face's targets, or null when its landmarks are implausible (a missing face: never zero targets).
 * scaleToFacePixels: factor from the keypoints' pixels to 48-px face pixels (the eye-distance bound).
 */
export function mouthTargets(k: FaceKeypoints, scaleToFacePixels = 1): { weights: MouthWeights; measures: MouthMeasures } | { rejected: string; measures: MouthMeasures } {
  const measures = mouthMeasures(k);
  const why = implausibility(measures, scaleToFacePixels);
  return why ? { rejected: why, measures } : { weights: mouthBlendshapes(measures), measures };
}

/** VRM 1.0 viseme expressions (VRMC_vrm expressions.preset). */
export const VRM_VISEMES = ['aa', 'ih', 'ou', 'ee', 'oh'] as const;
export type VrmViseme = (typeof VRM_VISEMES)[number];

/**
 * Mouth weights → VRM visemes, for avatars that have only those five mouth shapes:
 *   round  = max(pucker, funnel)          spread = max(mean smile, mean stretch)
 *   aa = jawOpen · (1 − round) · (1 − spread/2)      open, not rounded ("ah")
 *   oh = funnel                                       open and rounded ("oh")
 *   ou = pucker                                       rounded, nearly closed ("oo")
 *   ee = spread · (1 − jawOpen)                       lips spread, nearly closed ("ee")
 *   ih = 2·min(jawOpen, 1 − jawOpen) · (1 − round) · (1 − spread)   half open, neutral lips ("ih")
 * VRM adds visemes on one face, so when they sum above 1 they are scaled down to sum 1: the
 * mouth never opens further than the strongest single shape asks.
 */
export function mouthToVisemes(w: Pick<MouthWeights, 'jawOpen' | 'mouthSmileLeft' | 'mouthSmileRight' | 'mouthStretchLeft' | 'mouthStretchRight' | 'mouthPucker' | 'mouthFunnel'>): Record<VrmViseme, number> {
  const open = clamp01(w.jawOpen);
  const round = clamp01(Math.max(w.mouthPucker, w.mouthFunnel));
  const spread = clamp01(Math.max((w.mouthSmileLeft + w.mouthSmileRight) / 2, (w.mouthStretchLeft + w.mouthStretchRight) / 2));
  const v: Record<VrmViseme, number> = {
    aa: open * (1 - round) * (1 - spread / 2),
    oh: clamp01(w.mouthFunnel),
    ou: clamp01(w.mouthPucker),
    ee: spread * (1 - open),
    ih: 2 * Math.min(open, 1 - open) * (1 - round) * (1 - spread),
  };
  const total = v.aa + v.ih + v.ou + v.ee + v.oh;
  if (total > 1) for (const k of VRM_VISEMES) v[k] /= total;
  return v;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
