/**
 * The WebXR scene: the mirror avatar in front of the user, the panel beside it, a floor. The same
 * scene is the desktop view (orbit controls) and the immersive one (@react-three/xr store).
 */
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { useXR, XR, type XRStore } from '@react-three/xr';
import { useEffect, useRef, useState } from 'react';
import * as THREE from 'three';
import type { AppController } from '../state/controller.js';
import { AvatarView } from './AvatarView.js';
import { DesktopControls } from './DesktopControls.js';
import { Panel } from './Panel.js';
import { AVATAR_POSITION, sceneLayout, VFOV_DEG } from './layout.js';
import { MirrorRoom } from './MirrorRoom.js';
import type { ScenePort, ScreenRect } from './probe.js';


const box = new THREE.Box3();
const frustum = new THREE.Frustum();
const viewProjection = new THREE.Matrix4();

const corner = new THREE.Vector3();

/** The object's bounding box projected onto the canvas, in CSS pixels of the canvas. */
function screenRect(object: THREE.Object3D | undefined, camera: THREE.Camera, width: number, height: number): ScreenRect | null {
  if (!object || !object.visible) return null;
  box.setFromObject(object);
  if (box.isEmpty()) return null;
  const rect = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
  for (let i = 0; i < 8; i++) {
    corner.set(i & 1 ? box.max.x : box.min.x, i & 2 ? box.max.y : box.min.y, i & 4 ? box.max.z : box.min.z).project(camera);
    const x = ((corner.x + 1) / 2) * width, y = ((1 - corner.y) / 2) * height;
    rect.left = Math.min(rect.left, x); rect.right = Math.max(rect.right, x);
    rect.top = Math.min(rect.top, y); rect.bottom = Math.max(rect.bottom, y);
  }
  return rect;
}

function inView(object: THREE.Object3D | undefined, camera: THREE.Camera): boolean {
  if (!object || !object.visible) return false;
  box.setFromObject(object);
  if (box.isEmpty()) return false;
  viewProjection.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
  frustum.setFromProjectionMatrix(viewProjection);
  return frustum.intersectsBox(box);
}

/** Frame counters and timings for the debug snapshot and the scene benchmark. */
function FrameProbe({ port }: { port: ScenePort }) {
  const gl = useThree((s) => s.gl);
  const scene = useThree((s) => s.scene);
  const frameStart = useRef(0);
  const lastFrame = useRef(0);
  const lastCheck = useRef(0);

  useEffect(() => {
    // Runs after the renderer has drawn the scene: work = update + render time of this frame.
    scene.onAfterRender = () => {
      const end = performance.now();
      if (lastFrame.current > 0) port.pushFrame(frameStart.current - lastFrame.current, end - frameStart.current);
      lastFrame.current = frameStart.current;
      port.frames++;
      if (gl.xr.isPresenting) port.xrFrames++;
      port.triangles = gl.info.render.triangles;
    };
    return () => { scene.onAfterRender = () => {}; };
  }, [gl, scene, port]);

  useFrame((state) => {
    frameStart.current = performance.now();
    if (frameStart.current - lastCheck.current < 200) return;
    lastCheck.current = frameStart.current;
    const camera = gl.xr.isPresenting ? gl.xr.getCamera() : state.camera;
    camera.updateMatrixWorld();
    port.avatarInView = inView(state.scene.getObjectByName('avatar-anchor'), camera);
    port.panelInView = inView(state.scene.getObjectByName('panel'), camera);
    port.roomShown = state.scene.getObjectByName('mirror-room') !== undefined;
    port.avatarY = state.scene.getObjectByName('avatar-anchor')?.getWorldPosition(corner).y ?? 0;
    port.viewerY = camera.getWorldPosition(corner).y;
    if (!gl.xr.isPresenting) {
      port.screenRects = {
        avatar: screenRect(state.scene.getObjectByName('avatar-anchor'), camera, state.size.width, state.size.height),
        panel: screenRect(state.scene.getObjectByName('panel'), camera, state.size.width, state.size.height),
      };
    }
  }, -100);
  return null;
}

function DesktopFloor() {
  const presenting = useXR((s) => s.session != null);
  if (presenting) return null;
  return (
    <mesh rotation={[-Math.PI / 2, 0, 0]} position={[0, 0, -0.6]}>
      <circleGeometry args={[2.4, 48]} />
      <meshStandardMaterial color="#2c3a4a" roughness={1} />
    </mesh>
  );
}

/** A plausible standing eye height on 'local-floor' (metres); outside it the headset's own is not trusted. */
const EYE_HEIGHT_RANGE = [0.9, 2.1] as const;

/**
 * The avatar, the panel and the desktop camera, placed for the window's shape (src/app/scene/layout.ts).
 * In a headset the avatar's eyes and the panel follow the user's eye height, taken once the session
 * starts, so the mirror image looks back level, standing or seated.
 */
function Arranged({ controller, port }: { controller: AppController; port: ScenePort }) {
  const aspect = useThree((s) => s.size.width / Math.max(1, s.size.height));
  const gl = useThree((s) => s.gl);
  const presenting = useXR((s) => s.session != null);
  const [eyeY, setEyeY] = useState<number | null>(null);
  useEffect(() => { if (!presenting) setEyeY(null); }, [presenting]);
  useFrame(() => {
    if (!presenting || eyeY !== null || !gl.xr.isPresenting) return;
    const y = gl.xr.getCamera().position.y;
    if (y >= EYE_HEIGHT_RANGE[0] && y <= EYE_HEIGHT_RANGE[1]) setEyeY(y);
  });
  const layout = sceneLayout(aspect, presenting);
  const lift = presenting && eyeY !== null ? eyeY - AVATAR_POSITION[1] : 0;
  const [ax, ay, az] = AVATAR_POSITION, [px, py, pz] = layout.panel.position;
  return (
    <>
      {presenting && <MirrorRoom mirrorY={ay + lift - 0.15} />}
      <AvatarView store={controller.store} port={port} position={[ax, ay + lift, az]} />
      <Panel controller={controller} port={port} position={[px, py + lift, pz]} rotationY={layout.panel.rotationY} />
      <DesktopControls target={layout.target} camera={layout.camera} />
    </>
  );
}

export function Scene({ controller, xrStore, port }: { controller: AppController; xrStore: XRStore; port: ScenePort }) {
  return (
    <Canvas
      camera={{ position: sceneLayout(1.78, false).camera, fov: VFOV_DEG, near: 0.02, far: 50 }}
      gl={{ antialias: true }}
      dpr={[1, 2]}
    >
      <XR store={xrStore}>
        <color attach="background" args={['#1b2431']} />
        <hemisphereLight args={['#dfe9ff', '#3a3228', 1.4]} />
        <directionalLight position={[1.2, 3, 2]} intensity={2.2} />
        <directionalLight position={[-2, 1.5, 1]} intensity={0.6} color="#ffd7b0" />
        {/* the desktop view's floor; in a headset the mirror room replaces it */}
        <DesktopFloor />
        <Arranged controller={controller} port={port} />
        <FrameProbe port={port} />
      </XR>
    </Canvas>
  );
}
