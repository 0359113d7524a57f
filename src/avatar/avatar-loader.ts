/**
 * Loads a user's avatar: a VRM (expression presets) or a glTF/GLB with ARKit-named morph targets,
 * from a URL or a dropped file. Anything else fails with a message that says why; the caller keeps
 * the default avatar.
 */
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { VRMLoaderPlugin, VRMUtils, type VRM } from '@pixiv/three-vrm';
import { createDefaultAvatar } from './default-avatar.js';
import { bindArkitMorphs, type FaceTarget } from './face-driver.js';
import { fetchAsset } from './fetch-asset.js';

/** The built-in head is modelled in units of its half-width (~10 cm). */
const DEFAULT_AVATAR_SCALE = 0.1;

/** The built-in avatar, scaled to metres, with its ARKit morphs bound: the fallback of every view. */
export function defaultAvatarTarget(): { root: THREE.Object3D; face: FaceTarget } {
  const root = createDefaultAvatar();
  root.scale.setScalar(DEFAULT_AVATAR_SCALE);
  return { root, face: { kind: 'arkit', bindings: bindArkitMorphs(root) } };
}

export interface LoadedAvatar {
  kind: 'vrm' | 'gltf';
  /** positioned so the head's centre is at the origin, facing +z */
  root: THREE.Object3D;
  face: FaceTarget;
  dispose(): void;
}

export class AvatarLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AvatarLoadError';
  }
}

/** Moves the object so `centre` (world space, before the move) ends up at the origin, and scales it by `scale`. */
function recentre(object: THREE.Object3D, centre: THREE.Vector3, scale = 1): THREE.Object3D {
  const holder = new THREE.Group();
  object.position.sub(centre);
  holder.add(object);
  holder.scale.setScalar(scale);
  return holder;
}

function disposeTree(root: THREE.Object3D): void {
  root.traverse((o) => {
    const mesh = o as THREE.Mesh;
    if (!mesh.isMesh) return;
    mesh.geometry.dispose();
    for (const m of Array.isArray(mesh.material) ? mesh.material : [mesh.material]) m.dispose();
  });
}

export async function loadAvatar(url: string, name = url): Promise<LoadedAvatar> {
  const loader = new GLTFLoader();
  loader.register((parser) => new VRMLoaderPlugin(parser));
  // Fetched here, not by the loader: a missing file must read "not found", not "invalid glTF".
  const bytes = await fetchAsset(url, `"${name}"`).catch((e: Error) => { throw new AvatarLoadError(e.message); });
  let gltf: Awaited<ReturnType<GLTFLoader['parseAsync']>>;
  try {
    gltf = await loader.parseAsync(bytes, THREE.LoaderUtils.extractUrlBase(url));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String((e as ProgressEvent)?.type ?? e);
    throw new AvatarLoadError(`"${name}" could not be loaded as a VRM or glTF avatar: ${reason}`);
  }
  const vrm = gltf.userData.vrm as VRM | undefined;
  if (vrm) {
    VRMUtils.removeUnnecessaryVertices(gltf.scene);
    VRMUtils.combineSkeletons(gltf.scene);
    VRMUtils.rotateVRM0(vrm);
    // rotateVRM0 turns VRM 0.x to face -z like VRM 1.0; our mirror avatar faces the viewer (+z).
    vrm.scene.rotation.y += Math.PI;
    vrm.scene.updateMatrixWorld(true);
    const head = vrm.humanoid?.getNormalizedBoneNode('head');
    const centre = new THREE.Vector3();
    if (head) head.getWorldPosition(centre).add(new THREE.Vector3(0, 0.06, 0));
    else new THREE.Box3().setFromObject(vrm.scene).getCenter(centre);
    if (!vrm.expressionManager) throw new AvatarLoadError(`"${name}" is a VRM without expressions: nothing to drive`);
    return { kind: 'vrm', root: recentre(vrm.scene, centre), face: { kind: 'vrm', vrm }, dispose: () => VRMUtils.deepDispose(vrm.scene) };
  }
  const bindings = bindArkitMorphs(gltf.scene);
  if (bindings.length === 0) {
    disposeTree(gltf.scene);
    throw new AvatarLoadError(`"${name}" has no morph targets with ARKit names (mouthSmileLeft, jawOpen, …): the tracker cannot drive it`);
  }
  // The mesh with the most ARKit shapes is the face: centre on it, size it like a head (~25 cm).
  gltf.scene.updateMatrixWorld(true);
  const face = bindings.reduce((a, b) => (b.slots.length > a.slots.length ? b : a)).mesh;
  const box = new THREE.Box3().setFromObject(face);
  const size = box.getSize(new THREE.Vector3());
  const scale = size.y > 0 ? 0.25 / Math.max(size.x, size.y) : 1;
  return { kind: 'gltf', root: recentre(gltf.scene, box.getCenter(new THREE.Vector3()), scale), face: { kind: 'arkit', bindings }, dispose: () => disposeTree(gltf.scene) };
}

/** Avatar files we accept from a drop. */
export function isAvatarFile(name: string): boolean {
  return /\.(vrm|glb|gltf)$/i.test(name);
}
