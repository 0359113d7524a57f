/**
 * The WebXR scene: the mirror avatar in front of the user, the panel beside it, a floor. The same
 * scene is the desktop view (orbit controls) and the immersive one (@react-three/xr store).
 */
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { XR, type XRStore } from '@react-three/xr';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import type { AppController } from '../app/controller.js';
import { AvatarView } from './AvatarView.js';
import { DesktopControls } from './DesktopControls.js';
import { Panel } from './Panel.js';
import type { ScenePort } from './probe.js';

/** Eye height of a standing user on the 'local-floor' reference space. */
const AVATAR_POSITION: [number, number, number] = [0, 1.5, -0.85];
const PANEL_POSITION: [number, number, number] = [0.52, 1.45, -0.78];
const DESKTOP_CAMERA: [number, number, number] = [0.05, 1.56, 0.05];
const DESKTOP_TARGET: [number, number, number] = [0.22, 1.45, -0.85];

const box = new THREE.Box3();
const frustum = new THREE.Frustum();
const viewProjection = new THREE.Matrix4();

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
  }, -100);
  return null;
}

export function Scene({ controller, xrStore, port }: { controller: AppController; xrStore: XRStore; port: ScenePort }) {
  return (
    <Canvas
      camera={{ position: DESKTOP_CAMERA, fov: 50, near: 0.02, far: 50 }}
      gl={{ antialias: true }}
      dpr={[1, 2]}
      onCreated={({ camera }) => camera.lookAt(...DESKTOP_TARGET)}
    >
      <XR store={xrStore}>
        <color attach="background" args={['#1b2431']} />
        <hemisphereLight args={['#dfe9ff', '#3a3228', 1.4]} />
        <directionalLight position={[1.2, 3, 2]} intensity={2.2} />
        <directionalLight position={[-2, 1.5, 1]} intensity={0.6} color="#ffd7b0" />
        <mesh rotation={[-Math.PI / 2, 0, 0]} position={[0, 0, -0.6]}>
          <circleGeometry args={[2.4, 48]} />
          <meshStandardMaterial color="#2c3a4a" roughness={1} />
        </mesh>
        <AvatarView store={controller.store} port={port} position={AVATAR_POSITION} />
        <Panel controller={controller} port={port} position={PANEL_POSITION} rotationY={-0.55} />
        <DesktopControls target={DESKTOP_TARGET} />
        <FrameProbe port={port} />
      </XR>
    </Canvas>
  );
}
