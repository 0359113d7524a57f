/**
 * The default avatar, built in code (our own work): a friendly cartoon head whose face parts carry
 * morph targets named with ARKit blendshape names, so it is driven exactly like a downloaded ARKit
 * rig. Modelled in units of the head's half-width; the caller scales it to metres.
 */
import * as THREE from 'three';
import { buildMorphGeometry, fanIndex, stripIndex, type Params } from './morph-geometry.js';

/** The head is an ellipsoid with these radii. */
const HEAD = { x: 1, y: 1.2, z: 1 };

/** Depth of the head's front surface at (x, y): face parts sit on it so they wrap around the head. */
export function surfaceZ(x: number, y: number): number {
  const r = 1 - (x * x) / (HEAD.x * HEAD.x) - (y * y) / (HEAD.y * HEAD.y);
  return HEAD.z * Math.sqrt(Math.max(0, r));
}

const p = (params: Params, name: string) => params[name] ?? 0;
const smooth01 = (x: number) => { const t = Math.min(1, Math.max(0, x)); return t * t * (3 - 2 * t); };
/** Share of a left-side shape at a point x (the avatar's own left is +x: it faces the viewer). */
const leftShare = (x: number, halfWidth: number) => smooth01((x / halfWidth + 0.35) / 0.7);
const sided = (params: Params, stem: string, left: number) => p(params, `${stem}Left`) * left + p(params, `${stem}Right`) * (1 - left);

const MOUTH_Y = -0.5;
const MOUTH_SAMPLES = 25;

/** Lips and mouth opening: four curves (upper outer/inner, lower inner/outer) across the mouth. */
function mouthPositions(params: Params): number[] {
  const out: number[] = [];
  const rows: number[][] = [[], [], [], []];
  for (let i = 0; i < MOUTH_SAMPLES; i++) {
    const t = (i / (MOUTH_SAMPLES - 1)) * 2 - 1;
    const left = leftShare(t, 1);
    const smile = sided(params, 'mouthSmile', left);
    const frown = sided(params, 'mouthFrown', left);
    const stretch = sided(params, 'mouthStretch', left);
    const dimple = sided(params, 'mouthDimple', left);
    const press = sided(params, 'mouthPress', left);
    const lowerDown = sided(params, 'mouthLowerDown', left);
    const upperUp = sided(params, 'mouthUpperUp', left);
    const pucker = p(params, 'mouthPucker');
    const funnel = p(params, 'mouthFunnel');
    const jaw = p(params, 'jawOpen');
    const halfWidth = 0.36 * (1 + 0.22 * stretch + 0.14 * smile + 0.06 * dimple - 0.4 * pucker - 0.25 * funnel);
    // mouthLeft moves the whole mouth toward the avatar's own left (+x)
    const x = halfWidth * t + 0.1 * (p(params, 'mouthLeft') - p(params, 'mouthRight'));
    const profile = 1 - t * t;
    const round = Math.sqrt(profile);
    const corner = (0.03 + 0.17 * smile - 0.14 * frown - 0.04 * stretch) * t * t;
    const upperInner = corner + (0.012 + 0.05 * upperUp + 0.03 * p(params, 'mouthShrugUpper') + 0.05 * funnel) * profile;
    const lowerLift = 0.05 * p(params, 'mouthShrugLower') * profile;
    const lowerInner = corner - (0.012 + 0.3 * jaw + 0.1 * funnel + 0.07 * lowerDown - 0.01 * press) * round + lowerLift;
    // a lip rolled in shows less of its red
    const upperOuter = upperInner + (0.075 + 0.05 * pucker - 0.05 * press + 0.02 * funnel - 0.045 * p(params, 'mouthRollUpper')) * round;
    const lowerOuter = lowerInner - (0.095 + 0.05 * pucker - 0.06 * press - 0.06 * p(params, 'mouthRollLower')) * round;
    const forward = 0.05 * pucker + 0.035 * funnel + 0.03 * p(params, 'jawForward');
    const ys = [upperOuter, upperInner, lowerInner, lowerOuter];
    const lift = [0.022, 0.014, 0.014, 0.022];
    ys.forEach((y, k) => rows[k].push(x, MOUTH_Y + y, surfaceZ(x, MOUTH_Y + y) + lift[k] + forward * round));
  }
  for (const row of rows) out.push(...row);
  return out;
}

function mouthGeometry(): THREE.BufferGeometry {
  const n = MOUTH_SAMPLES;
  const row = (k: number) => Array.from({ length: n }, (_, i) => k * n + i);
  const lips = [...stripIndex(row(0), row(1)), ...stripIndex(row(2), row(3))];
  const inside = stripIndex(row(1), row(2));
  const names = ['mouthSmile', 'mouthFrown', 'mouthStretch', 'mouthDimple', 'mouthPress', 'mouthLowerDown', 'mouthUpperUp'];
  const targets: Record<string, Params> = {};
  for (const stem of names) for (const side of ['Left', 'Right']) targets[stem + side] = { [stem + side]: 1 };
  for (const name of ['mouthPucker', 'mouthFunnel', 'mouthShrugLower', 'mouthShrugUpper', 'mouthRollUpper', 'mouthRollLower', 'mouthLeft', 'mouthRight', 'jawOpen', 'jawForward']) {
    targets[name] = { [name]: 1 };
  }
  return buildMorphGeometry({
    positions: mouthPositions,
    index: [...lips, ...inside],
    groups: [{ start: 0, count: lips.length, materialIndex: 0 }, { start: lips.length, count: inside.length, materialIndex: 1 }],
    targets,
  });
}

const EYE = { x: 0.36, y: 0.1, rx: 0.17, ry: 0.14, iris: 0.085 };
const RING = 28;

/** Both eyes: white, iris and a highlight each; lids are a vertical scale about the eye's centre. */
function eyePositions(params: Params): number[] {
  const out: number[] = [];
  for (const [side, sign] of [['Left', 1], ['Right', -1]] as const) {
    const cx = sign * EYE.x;
    const wide = p(params, `eyeWide${side}`), squint = p(params, `eyeSquint${side}`), blink = p(params, `eyeBlink${side}`);
    const whiteScale = 1 + 0.35 * wide - 0.45 * squint - 0.9 * blink;
    const irisScale = 1 - 0.45 * squint - 0.9 * blink;
    const disc = (rx: number, ry: number, ox: number, oy: number, scale: number, lift: number) => {
      const pts: [number, number][] = [[ox, oy]];
      for (let i = 0; i < RING; i++) {
        const a = (i / RING) * Math.PI * 2;
        pts.push([ox + rx * Math.cos(a), oy + ry * Math.sin(a)]);
      }
      for (const [x, y] of pts) {
        const ys = EYE.y + (y - EYE.y) * scale;
        out.push(cx + x, ys, surfaceZ(cx + x, ys) + lift);
      }
    };
    disc(EYE.rx, EYE.ry, 0, EYE.y, whiteScale, 0.012);
    disc(EYE.iris, EYE.iris, sign * -0.015, EYE.y - 0.01, irisScale, 0.02);
    disc(0.025, 0.025, sign * -0.015 + 0.03, EYE.y + 0.025, irisScale, 0.026);
  }
  return out;
}

function eyeGeometry(): THREE.BufferGeometry {
  const per = RING + 1;
  const discIndex = (d: number) => fanIndex(d * per, Array.from({ length: RING }, (_, i) => d * per + 1 + i));
  const whites = [...discIndex(0), ...discIndex(3)];
  const irises = [...discIndex(1), ...discIndex(4)];
  const lights = [...discIndex(2), ...discIndex(5)];
  const targets: Record<string, Params> = {};
  for (const stem of ['eyeWide', 'eyeSquint', 'eyeBlink']) for (const side of ['Left', 'Right']) targets[stem + side] = { [stem + side]: 1 };
  return buildMorphGeometry({
    positions: eyePositions,
    index: [...whites, ...irises, ...lights],
    groups: [
      { start: 0, count: whites.length, materialIndex: 0 },
      { start: whites.length, count: irises.length, materialIndex: 1 },
      { start: whites.length + irises.length, count: lights.length, materialIndex: 2 },
    ],
    targets,
  });
}

const BROW_SAMPLES = 12;

function browPositions(params: Params): number[] {
  const out: number[] = [];
  for (const [side, sign] of [['Left', 1], ['Right', -1]] as const) {
    const top: number[] = [], bottom: number[] = [];
    for (let i = 0; i < BROW_SAMPLES; i++) {
      const s = i / (BROW_SAMPLES - 1);
      const x = sign * (0.14 + 0.42 * s);
      const inner = 1 - s;
      const dy = 0.13 * p(params, 'browInnerUp') * inner + 0.13 * p(params, `browOuterUp${side}`) * s
        - (0.06 + 0.08 * inner) * p(params, `browDown${side}`);
      const y = 0.4 + 0.06 * Math.sin(Math.PI * s) + dy;
      const half = 0.03 * (1 - 0.5 * s) + 0.008;
      top.push(x, y + half, surfaceZ(x, y + half) + 0.02);
      bottom.push(x, y - half, surfaceZ(x, y - half) + 0.02);
    }
    out.push(...top, ...bottom);
  }
  return out;
}

function browGeometry(): THREE.BufferGeometry {
  const n = BROW_SAMPLES;
  const range = (start: number) => Array.from({ length: n }, (_, i) => start + i);
  const index = [...stripIndex(range(0), range(n)), ...stripIndex(range(3 * n), range(2 * n))];
  const targets: Record<string, Params> = { browInnerUp: { browInnerUp: 1 } };
  for (const side of ['Left', 'Right']) {
    targets[`browOuterUp${side}`] = { [`browOuterUp${side}`]: 1 };
    targets[`browDown${side}`] = { [`browDown${side}`]: 1 };
  }
  return buildMorphGeometry({ positions: browPositions, index, targets });
}

/** Blush on the cheeks: rises with cheekSquint, spreads with cheekPuff. */
function cheekPositions(params: Params): number[] {
  const out: number[] = [];
  for (const [side, sign] of [['Left', 1], ['Right', -1]] as const) {
    const cx = sign * 0.55;
    const cy = -0.2 + 0.07 * p(params, `cheekSquint${side}`);
    const r = 0.13 * (1 + 0.15 * p(params, `cheekSquint${side}`) + 0.3 * p(params, 'cheekPuff'));
    const pts: [number, number][] = [[cx, cy]];
    for (let i = 0; i < RING; i++) {
      const a = (i / RING) * Math.PI * 2;
      pts.push([cx + r * Math.cos(a), cy + 0.75 * r * Math.sin(a)]);
    }
    for (const [x, y] of pts) out.push(x, y, surfaceZ(x, y) + 0.008 + 0.08 * p(params, 'cheekPuff'));
  }
  return out;
}

function cheekGeometry(): THREE.BufferGeometry {
  const per = RING + 1;
  const index = [0, 1].flatMap((d) => fanIndex(d * per, Array.from({ length: RING }, (_, i) => d * per + 1 + i)));
  const targets: Record<string, Params> = { cheekPuff: { cheekPuff: 1 } };
  for (const side of ['Left', 'Right']) targets[`cheekSquint${side}`] = { [`cheekSquint${side}`]: 1 };
  return buildMorphGeometry({ positions: cheekPositions, index, targets });
}

/**
 * A unit sphere reshaped per vertex: `place` maps each unit-sphere vertex to its position under the
 * given morph parameters, which builds the rest shape and every morph target alike.
 */
function sphereMorphGeometry(
  segments: [number, number],
  place: (ux: number, uy: number, uz: number, params: Params) => [number, number, number],
  targets: Record<string, Params>,
): THREE.BufferGeometry {
  const sphere = new THREE.SphereGeometry(1, segments[0], segments[1]);
  const unit = Array.from(sphere.getAttribute('position').array as Float32Array);
  const index = Array.from(sphere.getIndex()!.array);
  sphere.dispose();
  const positions = (params: Params) => {
    const out: number[] = [];
    for (let i = 0; i < unit.length; i += 3) out.push(...place(unit[i], unit[i + 1], unit[i + 2], params));
    return out;
  };
  return buildMorphGeometry({ positions, index, targets });
}

/** A rounded button nose; noseSneer lifts and flares its sides. */
function noseGeometry(): THREE.BufferGeometry {
  return sphereMorphGeometry([20, 14], (ux, uy, uz, params) => {
    const sneer = sided(params, 'noseSneer', leftShare(ux, 1)) * Math.abs(ux);
    return [ux * 0.1 * (1 + 0.25 * sneer), -0.13 + uy * 0.085 + 0.05 * sneer, surfaceZ(0, -0.13) - 0.02 + uz * 0.09];
  }, { noseSneerLeft: { noseSneerLeft: 1 }, noseSneerRight: { noseSneerRight: 1 } });
}

/** The head itself: the chin drops with jawOpen, the cheeks bulge with cheekPuff. */
function headGeometry(): THREE.BufferGeometry {
  return sphereMorphGeometry([64, 48], (ux, uy, uz, params) => {
    const chin = smooth01((-uy - 0.35) / 0.45) * smooth01((uz + 0.3) / 0.6);
    const cheek = smooth01(1 - Math.abs(uy + 0.25) / 0.35) * smooth01((Math.abs(ux) - 0.4) / 0.4) * smooth01(uz / 0.5);
    return [
      ux * HEAD.x * (1 + 0.12 * p(params, 'cheekPuff') * cheek),
      uy * HEAD.y - 0.16 * p(params, 'jawOpen') * chin,
      uz * HEAD.z + 0.03 * p(params, 'jawForward') * chin,
    ];
  }, { jawOpen: { jawOpen: 1 }, cheekPuff: { cheekPuff: 1 }, jawForward: { jawForward: 1 } });
}

export const PALETTE = {
  skin: '#f2c6a0',
  hair: '#4a2f23',
  lips: '#c8565e',
  mouth: '#4a1620',
  eyeWhite: '#fbfbf8',
  iris: '#3d6fa8',
  blush: '#f08a8a',
  sweater: '#2f8f83',
};

/** Builds the default avatar; its meshes with morph targets are the ones a face driver drives. */
export function createDefaultAvatar(): THREE.Group {
  const root = new THREE.Group();
  root.name = 'default-avatar';
  const skin = new THREE.MeshStandardMaterial({ color: PALETTE.skin, roughness: 0.65 });
  const add = (name: string, geometry: THREE.BufferGeometry, material: THREE.Material | THREE.Material[]) => {
    const mesh = new THREE.Mesh(geometry, material);
    mesh.name = name;
    if (geometry.morphAttributes.position) mesh.updateMorphTargets();
    root.add(mesh);
    return mesh;
  };
  add('head', headGeometry(), skin);
  const onFace = (color: string, extra: THREE.MeshStandardMaterialParameters = {}) =>
    new THREE.MeshStandardMaterial({ color, roughness: 0.5, polygonOffset: true, polygonOffsetFactor: -2, polygonOffsetUnits: -2, ...extra });
  add('mouth', mouthGeometry(), [onFace(PALETTE.lips, { roughness: 0.35 }), onFace(PALETTE.mouth)]);
  add('eyes', eyeGeometry(), [onFace(PALETTE.eyeWhite, { roughness: 0.2 }), onFace(PALETTE.iris, { roughness: 0.2 }), onFace('#ffffff', { emissive: '#ffffff', emissiveIntensity: 0.6 })]);
  add('brows', browGeometry(), onFace(PALETTE.hair, { side: THREE.DoubleSide }));
  add('cheeks', cheekGeometry(), onFace(PALETTE.blush, { transparent: true, opacity: 0.45, depthWrite: false }));
  add('nose', noseGeometry(), skin);

  const hairMaterial = new THREE.MeshStandardMaterial({ color: PALETTE.hair, roughness: 0.8 });
  // A cap over the crown, pushed back so the forehead shows.
  const hair = new THREE.Mesh(new THREE.SphereGeometry(1.05, 48, 24, 0, Math.PI * 2, 0, Math.PI * 0.5), hairMaterial);
  hair.scale.set(HEAD.x * 1.03, HEAD.y * 0.9, HEAD.z * 1.05);
  hair.position.set(0, 0.4, -0.16);
  hair.name = 'hair';
  root.add(hair);
  for (const sign of [-1, 1]) {
    const ear = new THREE.Mesh(new THREE.SphereGeometry(1, 16, 12), skin);
    ear.scale.set(0.14, 0.25, 0.1);
    ear.position.set(sign * 0.98, 0.02, -0.05);
    ear.name = 'ear';
    root.add(ear);
  }
  const neck = new THREE.Mesh(new THREE.CylinderGeometry(0.36, 0.42, 0.9, 24), skin);
  neck.position.set(0, -1.35, -0.1);
  root.add(neck);
  const body = new THREE.Mesh(new THREE.SphereGeometry(1, 32, 16), new THREE.MeshStandardMaterial({ color: PALETTE.sweater, roughness: 0.9 }));
  body.scale.set(1.9, 0.75, 0.95);
  body.position.set(0, -2.15, -0.15);
  body.name = 'body';
  root.add(body);
  return root;
}
