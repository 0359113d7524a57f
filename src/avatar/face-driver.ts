/**
 * Drives an avatar's face toward the tracker's latest weights at the display rate. Results arrive
 * at the tracker's pace (≤ 30 Hz, irregular); each rendered frame moves every weight a time-based
 * step toward its target, so motion is smooth at 72–120 Hz in a headset and never waits for inference.
 */
import type * as THREE from 'three';
import type { VRM } from '@pixiv/three-vrm';
import { ARKIT_BLENDSHAPES, VRM_PRESETS, type ArkitBlendshape, type VrmPreset } from '../core/blendshapes.js';
import { isMouthShape } from '../core/face-weights.js';
import { VRM_VISEMES, type VrmViseme } from '../core/mouth-blendshapes.js';

/** Time constant of the approach, seconds: ~95% of a step in 3τ ≈ 0.2 s. */
export const FACE_TAU_S = 0.07;
/**
 * The same for a measured mouth: a syllable lasts ~0.2 s, so FACE_TAU_S would show half of it.
 * This still spans a 30 Hz tracker's frame gap, so the jaw moves between results, not in steps.
 */
export const MOUTH_TAU_S = 0.03;

/** Exponential approach of `current` toward `target` over dt seconds, frame-rate independent. */
export function approach(current: number, target: number, dtS: number, tauS = FACE_TAU_S): number {
  if (!(dtS > 0)) return current;
  const k = 1 - Math.exp(-dtS / tauS);
  return current + (target - current) * k;
}

/** ARKit names as rigs spell them: "mouthSmileLeft", "MouthSmileLeft", "mouthSmile_L", "blendShape1.mouthSmileLeft". */
export function canonicalShapeName(name: string): string {
  const last = name.split('.').pop() ?? name;
  return last.replace(/_L$/i, 'Left').replace(/_R$/i, 'Right').replace(/[_\s-]/g, '').toLowerCase();
}

const CANONICAL = new Map<string, ArkitBlendshape>(ARKIT_BLENDSHAPES.map((n) => [canonicalShapeName(n), n]));

/** One mesh's ARKit morph targets: its influence index for each shape it has. */
export interface MorphBinding { mesh: THREE.Mesh; slots: [ArkitBlendshape, number][] }

export function bindArkitMorphs(root: THREE.Object3D): MorphBinding[] {
  const bindings: MorphBinding[] = [];
  root.traverse((object) => {
    const mesh = object as THREE.Mesh;
    if (!mesh.isMesh || !mesh.morphTargetDictionary || !mesh.morphTargetInfluences) return;
    const slots: [ArkitBlendshape, number][] = [];
    for (const [name, index] of Object.entries(mesh.morphTargetDictionary)) {
      const shape = CANONICAL.get(canonicalShapeName(name));
      if (shape) slots.push([shape, index]);
    }
    if (slots.length) bindings.push({ mesh, slots });
  });
  return bindings;
}

/** What the driver drives: ARKit morph targets on meshes, or a VRM's expression presets. */
export type FaceTarget =
  | { kind: 'arkit'; bindings: MorphBinding[] }
  | { kind: 'vrm'; vrm: VRM };

export class FaceDriver {
  private readonly arkit = new Map<ArkitBlendshape, number>();
  private readonly presets = new Map<VrmPreset, number>();
  private readonly visemes = new Map<VrmViseme, number>();
  private arkitTarget: Partial<Record<ArkitBlendshape, number>> = {};
  private vrmTarget: Partial<Record<VrmPreset, number>> = {};
  private visemeTarget: Partial<Record<VrmViseme, number>> | null = null;
  /** set once a measured mouth arrived: only then are a VRM's visemes ours to write (else an app's lip sync may own them) */
  private drivesVisemes = false;
  private blinkAt = 2.5;
  private clock = 0;

  /**
   * Sets the weights to move toward (the latest tracker result; null relaxes to rest). `visemes`
   * (TrackResult.visemes) is present when the model measures the mouth: then the mouth and jaw
   * follow at speech speed, and a VRM without ARKit mouth shapes speaks through its visemes.
   */
  setTarget(arkit: Partial<Record<ArkitBlendshape, number>> | null, vrm: Partial<Record<VrmPreset, number>> | null, visemes: Partial<Record<VrmViseme, number>> | null = null): void {
    this.arkitTarget = arkit ?? {};
    this.vrmTarget = vrm ?? {};
    this.visemeTarget = visemes;
    if (visemes) this.drivesVisemes = true;
  }

  /**
   * Advances by dt seconds and writes the weights into the avatar. A head-mounted camera cannot see
   * the eyes, so the avatar blinks on its own every few seconds: a still stare reads as lifeless.
   */
  update(target: FaceTarget, dtS: number): void {
    this.clock += dtS;
    const blinkPhase = this.clock - this.blinkAt;
    const blink = blinkPhase < 0 ? 0 : blinkPhase < 0.16 ? Math.sin((blinkPhase / 0.16) * Math.PI) : 0;
    if (blinkPhase >= 0.16) this.blinkAt = this.clock + 2.5 + ((this.clock * 7.31) % 3);

    const measured = this.visemeTarget !== null;
    for (const shape of ARKIT_BLENDSHAPES) {
      const goal = this.arkitTarget[shape] ?? 0;
      const next = approach(this.arkit.get(shape) ?? 0, goal, dtS, measured && isMouthShape(shape) ? MOUTH_TAU_S : FACE_TAU_S);
      this.arkit.set(shape, next < 1e-4 && goal === 0 ? 0 : next);
    }
    for (const preset of VRM_PRESETS) this.presets.set(preset, approach(this.presets.get(preset) ?? 0, this.vrmTarget[preset] ?? 0, dtS));
    for (const viseme of VRM_VISEMES) this.visemes.set(viseme, approach(this.visemes.get(viseme) ?? 0, this.visemeTarget?.[viseme] ?? 0, dtS, MOUTH_TAU_S));

    if (target.kind === 'arkit') {
      for (const { mesh, slots } of target.bindings) {
        const influences = mesh.morphTargetInfluences!;
        for (const [shape, index] of slots) {
          const blinkExtra = shape === 'eyeBlinkLeft' || shape === 'eyeBlinkRight' ? blink : 0;
          influences[index] = Math.min(1, (this.arkit.get(shape) ?? 0) + blinkExtra);
        }
      }
    } else {
      const manager = target.vrm.expressionManager;
      if (manager) {
        for (const preset of VRM_PRESETS) manager.setValue(preset, this.presets.get(preset) ?? 0);
        // Perfect-sync VRMs also carry ARKit-named custom expressions: drive those too.
        for (const shape of ARKIT_BLENDSHAPES) if (manager.getExpression(shape)) manager.setValue(shape, this.arkit.get(shape) ?? 0);
        // Their jawOpen already moves the mouth; visemes on top would open it twice.
        if (this.drivesVisemes && !manager.getExpression('jawOpen')) {
          for (const viseme of VRM_VISEMES) manager.setValue(viseme, this.visemes.get(viseme) ?? 0);
        }
        manager.setValue('blink', blink);
      }
      target.vrm.update(dtS);
    }
  }

  /** Weights as applied now (before the blink), for the debug snapshot; visemes only once a measured mouth drove them. */
  current(): { arkit: Partial<Record<ArkitBlendshape, number>>; vrm: Partial<Record<VrmPreset | VrmViseme, number>> } {
    const vrm: Partial<Record<VrmPreset | VrmViseme, number>> = Object.fromEntries(this.presets);
    if (this.drivesVisemes) for (const [viseme, w] of this.visemes) vrm[viseme] = w;
    return { arkit: Object.fromEntries(this.arkit), vrm };
  }
}

/** Reads morph influences back from the meshes by ARKit name (the maximum over meshes sharing a name). */
export function readMorphWeights(bindings: MorphBinding[]): Partial<Record<ArkitBlendshape, number>> {
  const out: Partial<Record<ArkitBlendshape, number>> = {};
  for (const { mesh, slots } of bindings) {
    for (const [shape, index] of slots) out[shape] = Math.max(out[shape] ?? 0, mesh.morphTargetInfluences![index]);
  }
  return out;
}
