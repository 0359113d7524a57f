/** The default avatar carries every shape the expression mapping drives, and the face driver moves them. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { describe, expect, it } from 'vitest';
import type { VRM } from '@pixiv/three-vrm';
import { ARKIT_TABLE, arkitWeights, VRM_PRESETS, type ArkitBlendshape } from '../src/core/blendshapes.js';
import { MOUTH_BLENDSHAPES, VRM_VISEMES } from '../src/core/mouth-blendshapes.js';
import { EXPRESSIONS } from '../src/core/labels.js';
import { createDefaultAvatar } from '../src/avatar/default-avatar.js';
import { approach, bindArkitMorphs, canonicalShapeName, FACE_TAU_S, FaceDriver, MOUTH_TAU_S, readMorphWeights } from '../src/avatar/face-driver.js';

/** Vertex positions of a mesh with the given morph influences applied (relative morph targets). */
function morphed(mesh: THREE.Mesh, weights: Partial<Record<string, number>>): Float32Array {
  const base = mesh.geometry.getAttribute('position').array as Float32Array;
  const out = Float32Array.from(base);
  for (const [name, w] of Object.entries(weights)) {
    const index = mesh.morphTargetDictionary![name];
    if (index === undefined) continue;
    const delta = mesh.geometry.morphAttributes.position![index].array as Float32Array;
    for (let i = 0; i < out.length; i++) out[i] += delta[i] * (w ?? 0);
  }
  return out;
}

describe('default avatar', () => {
  const avatar = createDefaultAvatar();
  const bindings = bindArkitMorphs(avatar);
  const mouth = avatar.getObjectByName('mouth') as THREE.Mesh;

  it('has a morph target for every ARKit shape the mapping drives', () => {
    const driven = new Set(EXPRESSIONS.flatMap((e) => Object.keys(ARKIT_TABLE[e])));
    const present = new Set(bindings.flatMap((b) => b.slots.map(([name]) => name)));
    for (const shape of driven) expect(present, shape).toContain(shape);
  });

  it('smiling lifts the mouth corners, jawOpen drops the lower lip', () => {
    const n = 25; // mouth samples per curve: rows are upper outer, upper inner, lower inner, lower outer
    const y = (pos: Float32Array, row: number, i: number) => pos[(row * n + i) * 3 + 1];
    const rest = morphed(mouth, {});
    const smile = morphed(mouth, { mouthSmileLeft: 1, mouthSmileRight: 1 });
    const open = morphed(mouth, { jawOpen: 1 });
    expect(y(smile, 1, 0) - y(rest, 1, 0)).toBeGreaterThan(0.1);
    expect(y(smile, 1, n - 1) - y(rest, 1, n - 1)).toBeGreaterThan(0.1);
    expect(y(rest, 2, 12) - y(open, 2, 12)).toBeGreaterThan(0.2);
    for (const v of [...smile, ...open]) expect(Number.isFinite(v)).toBe(true);
  });

  it('the face driver moves the mesh weights toward the mapped weights, frame-rate independent', () => {
    const driver = new FaceDriver();
    const happy = arkitWeights({ neutral: 0, happiness: 1, surprise: 0, sadness: 0, anger: 0, disgust: 0, fear: 0, contempt: 0 });
    driver.setTarget(happy, { happy: 1 });
    for (let i = 0; i < 60; i++) driver.update({ kind: 'arkit', bindings }, 1 / 60);
    const weights = readMorphWeights(bindings);
    for (const [shape, w] of Object.entries(happy) as [ArkitBlendshape, number][]) expect(weights[shape]).toBeCloseTo(w, 3);
    expect(weights.jawOpen).toBe(0);
    // one 1/30 s step equals two 1/60 s steps
    expect(approach(approach(0, 1, 1 / 60), 1, 1 / 60)).toBeCloseTo(approach(0, 1, 1 / 30), 12);
  });

  it('has a morph target for every mouth shape the mouth head measures', () => {
    const present = new Set(bindings.flatMap((b) => b.slots.map(([name]) => name)));
    for (const shape of MOUTH_BLENDSHAPES) expect(present, shape).toContain(shape);
  });

  it('rolled lips show less red, mouthLeft/Right move the mouth to the avatar\'s own side', () => {
    const n = 25;
    const at = (pos: Float32Array, row: number, i: number, axis: 0 | 1) => pos[(row * n + i) * 3 + axis];
    const rest = morphed(mouth, {});
    const thickness = (pos: Float32Array, outer: number, inner: number) => Math.abs(at(pos, outer, 12, 1) - at(pos, inner, 12, 1));
    expect(thickness(morphed(mouth, { mouthRollUpper: 1 }), 0, 1)).toBeLessThan(0.6 * thickness(rest, 0, 1));
    expect(thickness(morphed(mouth, { mouthRollLower: 1 }), 3, 2)).toBeLessThan(0.6 * thickness(rest, 3, 2));
    expect(at(morphed(mouth, { mouthLeft: 1 }), 1, 12, 0) - at(rest, 1, 12, 0)).toBeGreaterThan(0.05);
    expect(at(morphed(mouth, { mouthRight: 1 }), 1, 12, 0) - at(rest, 1, 12, 0)).toBeLessThan(-0.05);
  });

  it('with a measured mouth the jaw follows at speech speed, the rest of the face as before', () => {
    const settle = (visemes: Record<string, number> | null) => {
      const driver = new FaceDriver();
      driver.setTarget({ jawOpen: 1, browInnerUp: 1 }, null, visemes);
      for (let i = 0; i < 6; i++) driver.update({ kind: 'arkit', bindings }, 1 / 60);
      return readMorphWeights(bindings);
    };
    const expressionOnly = settle(null);
    const measured = settle({ aa: 1, ih: 0, ou: 0, ee: 0, oh: 0 });
    expect(expressionOnly.jawOpen).toBeCloseTo(approachSteps(FACE_TAU_S), 5);
    expect(measured.jawOpen).toBeCloseTo(approachSteps(MOUTH_TAU_S), 5);
    expect(measured.jawOpen).toBeGreaterThan(0.9);
    expect(measured.browInnerUp).toBeCloseTo(expressionOnly.browInnerUp!, 10);
  });

  it('recognises ARKit names as rigs spell them', () => {
    expect(canonicalShapeName('MouthSmile_L')).toBe(canonicalShapeName('mouthSmileLeft'));
    expect(canonicalShapeName('blendShape1.jawOpen')).toBe(canonicalShapeName('jawOpen'));
  });
});

/** Where six 1/60 s steps toward 1 from 0 get with time constant tau. */
const approachSteps = (tau: number) => 1 - Math.exp(-6 / 60 / tau);

/** A VRM as the face driver sees it: expressions by name, set values recorded. */
function fakeVrm(expressions: readonly string[]): { vrm: VRM; values: Map<string, number> } {
  const values = new Map<string, number>();
  const expressionManager = {
    getExpression: (name: string) => (expressions.includes(name) ? {} : null),
    setValue: (name: string, value: number) => { values.set(name, value); },
  };
  return { vrm: { expressionManager, update: () => {} } as unknown as VRM, values };
}

describe('VRM avatars', () => {
  const speaking = { aa: 0.8, ih: 0, ou: 0.1, ee: 0, oh: 0 };

  it('speak through visemes when the mouth is measured, next to the presets', () => {
    const { vrm, values } = fakeVrm([...VRM_PRESETS, ...VRM_VISEMES]);
    const driver = new FaceDriver();
    driver.setTarget({ jawOpen: 0.8 }, { happy: 1 }, speaking);
    for (let i = 0; i < 60; i++) driver.update({ kind: 'vrm', vrm }, 1 / 60);
    expect(values.get('aa')).toBeCloseTo(0.8, 3);
    expect(values.get('ou')).toBeCloseTo(0.1, 3);
    expect(values.get('happy')).toBeCloseTo(1, 3);
    expect(driver.current().vrm.aa).toBeCloseTo(0.8, 3);
  });

  it('leave visemes alone without a measured mouth (an app\'s lip sync may own them)', () => {
    const { vrm, values } = fakeVrm([...VRM_PRESETS, ...VRM_VISEMES]);
    const driver = new FaceDriver();
    driver.setTarget({ jawOpen: 0.6 }, { surprised: 1 });
    driver.update({ kind: 'vrm', vrm }, 1 / 60);
    for (const viseme of VRM_VISEMES) expect(values.has(viseme), viseme).toBe(false);
    expect(driver.current().vrm).not.toHaveProperty('aa');
  });

  it('a perfect-sync VRM moves its mouth by ARKit names, not twice through visemes', () => {
    const { vrm, values } = fakeVrm([...VRM_PRESETS, ...VRM_VISEMES, 'jawOpen', 'mouthPucker']);
    const driver = new FaceDriver();
    driver.setTarget({ jawOpen: 0.8 }, null, speaking);
    for (let i = 0; i < 60; i++) driver.update({ kind: 'vrm', vrm }, 1 / 60);
    expect(values.get('jawOpen')).toBeCloseTo(0.8, 3);
    for (const viseme of VRM_VISEMES) expect(values.has(viseme), viseme).toBe(false);
  });
});

describe('assets/avatars/halfface-head.glb', () => {
  it('is the default head as glTF: every driven ARKit shape survives the export, named as in code', async () => {
    const bytes = readFileSync(resolve(import.meta.dirname, '../assets/avatars/halfface-head.glb'));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const gltf = await new GLTFLoader().parseAsync(buffer, '');
    const loaded = new Set(bindArkitMorphs(gltf.scene).flatMap((b) => b.slots.map(([name]) => name)));
    const inCode = new Set(bindArkitMorphs(createDefaultAvatar()).flatMap((b) => b.slots.map(([name]) => name)));
    expect(loaded.size).toBeGreaterThan(0);
    expect([...loaded].sort()).toEqual([...inCode].sort());
    // Loaded as loadAvatar() would: the meshes carry the morph targets with their ARKit names.
    const meshes: THREE.Mesh[] = [];
    gltf.scene.traverse((o) => { if ((o as THREE.Mesh).isMesh && (o as THREE.Mesh).morphTargetDictionary) meshes.push(o as THREE.Mesh); });
    expect(meshes.some((m) => 'mouthSmileLeft' in m.morphTargetDictionary! && 'jawOpen' in m.morphTargetDictionary!)).toBe(true);
  });
});
