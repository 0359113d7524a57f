/**
 * Which OSC addresses the bridge sends the ARKit blendshape weights to.
 *
 * 'unified' (default): the Unified Expressions parameters that VRCFaceTracking (VRCFT) v5 drives
 *   on avatars and that VRChat's OSC face tracking input understands:
 *   /avatar/parameters/<prefix>v2/<UnifiedName>, one float 0..1 each, prefix "FT/" by default
 *   (VRCFT loads parameters with any prefix; set --prefix "" for avatars built without one).
 *   ARKit shapes map to Unified Expressions base or "simple" shapes by the table below; one ARKit
 *   shape can feed two parameters (cheekPuff → CheekPuffLeft and CheekPuffRight), and when two
 *   shapes feed one parameter the larger weight wins.
 * 'arkit': /avatar/parameters/<prefix><arkitName> with the ARKit name as is (avatars rigged with
 *   ARKit-named parameters, or other OSC consumers).
 *
 * Eye gaze and blinks are not sent: the expression model does not see the eyes.
 */

/** ARKit blendshape → Unified Expressions v2 parameter name(s). */
export const ARKIT_TO_UNIFIED: Readonly<Record<string, readonly string[]>> = {
  browDownLeft: ['BrowDownLeft'], browDownRight: ['BrowDownRight'], browInnerUp: ['BrowInnerUp'],
  browOuterUpLeft: ['BrowOuterUpLeft'], browOuterUpRight: ['BrowOuterUpRight'],
  cheekPuff: ['CheekPuffLeft', 'CheekPuffRight'], cheekSquintLeft: ['CheekSquintLeft'], cheekSquintRight: ['CheekSquintRight'],
  eyeSquintLeft: ['EyeSquintLeft'], eyeSquintRight: ['EyeSquintRight'], eyeWideLeft: ['EyeWideLeft'], eyeWideRight: ['EyeWideRight'],
  jawForward: ['JawForward'], jawLeft: ['JawLeft'], jawOpen: ['JawOpen'], jawRight: ['JawRight'],
  mouthClose: ['MouthClosed'],
  mouthDimpleLeft: ['MouthDimpleLeft'], mouthDimpleRight: ['MouthDimpleRight'],
  mouthFrownLeft: ['MouthFrownLeft'], mouthFrownRight: ['MouthFrownRight'],
  mouthFunnel: ['LipFunnel'], mouthPucker: ['LipPucker'],
  mouthLeft: ['MouthUpperLeft', 'MouthLowerLeft'], mouthRight: ['MouthUpperRight', 'MouthLowerRight'],
  mouthLowerDownLeft: ['MouthLowerDownLeft'], mouthLowerDownRight: ['MouthLowerDownRight'],
  mouthPressLeft: ['MouthPressLeft'], mouthPressRight: ['MouthPressRight'],
  mouthRollLower: ['LipSuckLowerLeft', 'LipSuckLowerRight'], mouthRollUpper: ['LipSuckUpperLeft', 'LipSuckUpperRight'],
  mouthShrugLower: ['MouthRaiserLower'], mouthShrugUpper: ['MouthRaiserUpper'],
  mouthSmileLeft: ['MouthSmileLeft'], mouthSmileRight: ['MouthSmileRight'],
  mouthStretchLeft: ['MouthStretchLeft'], mouthStretchRight: ['MouthStretchRight'],
  mouthUpperUpLeft: ['MouthUpperUpLeft'], mouthUpperUpRight: ['MouthUpperUpRight'],
  noseSneerLeft: ['NoseSneerLeft'], noseSneerRight: ['NoseSneerRight'],
  tongueOut: ['TongueOut'],
};

export type Convention = 'unified' | 'arkit';
export const CONVENTIONS: readonly Convention[] = ['unified', 'arkit'];

export interface AddressOptions {
  convention?: Convention;
  /** inserted after /avatar/parameters/ (default "FT/" for unified, "" for arkit) */
  prefix?: string;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * ARKit weights → (address, value) pairs, sorted by address. Values are clamped to 0..1; names the
 * convention does not know are skipped (listed in `unknown`).
 */
export function toParameters(weights: Readonly<Record<string, number>>, options: AddressOptions = {}): { params: [string, number][]; unknown: string[] } {
  const convention = options.convention ?? 'unified';
  const prefix = options.prefix ?? (convention === 'unified' ? 'FT/' : '');
  const base = `/avatar/parameters/${prefix}`;
  const out = new Map<string, number>();
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(weights)) {
    const value = clamp01(raw);
    // Own keys only: "toString" or "constructor" would otherwise find Object.prototype's functions.
    const targets = convention === 'unified'
      ? (Object.hasOwn(ARKIT_TO_UNIFIED, name) ? ARKIT_TO_UNIFIED[name] : undefined)
      : /^[A-Za-z][A-Za-z0-9]*$/.test(name) ? [name] : undefined;
    if (!targets) {
      unknown.push(name);
      continue;
    }
    for (const t of targets) {
      const address = convention === 'unified' ? `${base}v2/${t}` : `${base}${t}`;
      out.set(address, Math.max(out.get(address) ?? 0, value));
    }
  }
  return { params: [...out].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)), unknown };
}
