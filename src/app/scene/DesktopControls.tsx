/** Orbit controls for the desktop view; off while a headset drives the camera. */
import { useFrame, useThree } from '@react-three/fiber';
import { useXR } from '@react-three/xr';
import { useEffect, useRef } from 'react';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

/** Orbits around `target`; the camera is put at `camera` whenever the layout changes them. */
export function DesktopControls({ target, camera: from }: { target: [number, number, number]; camera: [number, number, number] }) {
  const camera = useThree((s) => s.camera);
  const element = useThree((s) => s.gl.domElement);
  const presenting = useXR((s) => s.session != null);
  const controls = useRef<OrbitControls | null>(null);
  const [tx, ty, tz] = target;
  const [cx, cy, cz] = from;

  useEffect(() => {
    if (presenting) return;
    camera.position.set(cx, cy, cz);
    const orbit = new OrbitControls(camera, element);
    orbit.target.set(tx, ty, tz);
    orbit.enableDamping = true;
    orbit.minDistance = 0.3;
    orbit.maxDistance = 4;
    orbit.update();
    controls.current = orbit;
    return () => {
      orbit.dispose();
      controls.current = null;
    };
  }, [camera, element, presenting, tx, ty, tz, cx, cy, cz]);

  useFrame(() => controls.current?.update());
  return null;
}
