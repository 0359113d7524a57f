/** The mirror avatar: the default head, or a loaded VRM/glTF, with its face driven every frame. */
import { useFrame } from '@react-three/fiber';
import { useEffect, useMemo, useRef, useState } from 'react';
import type * as THREE from 'three';
import type { AppState, Store } from '../app/store.js';
import { useStore } from '../app/store.js';
import { loadAvatar, type LoadedAvatar } from './avatar-loader.js';
import { createDefaultAvatar } from './default-avatar.js';
import { bindArkitMorphs, FaceDriver, readMorphWeights, type FaceTarget } from './face-driver.js';
import type { ScenePort } from './probe.js';

/** The default head is modelled in units of its half-width (~10 cm). */
const DEFAULT_SCALE = 0.1;

export function AvatarView({ store, port, position }: { store: Store<AppState>; port: ScenePort; position: [number, number, number] }) {
  const source = useStore(store, (s) => s.avatarSource);
  const fallback = useMemo(() => {
    const root = createDefaultAvatar();
    root.scale.setScalar(DEFAULT_SCALE);
    return { root: root as THREE.Object3D, face: { kind: 'arkit', bindings: bindArkitMorphs(root) } as FaceTarget };
  }, []);
  const [loaded, setLoaded] = useState<LoadedAvatar | null>(null);
  const driver = useMemo(() => new FaceDriver(), []);
  const sway = useRef<THREE.Group>(null);

  useEffect(() => {
    if (!source) return;
    let cancelled = false;
    store.setState({ avatarLoading: true, avatarError: null });
    loadAvatar(source.url, source.name).then(
      (avatar) => {
        if (cancelled) return avatar.dispose();
        setLoaded((previous) => { previous?.dispose(); return avatar; });
        store.setState({ avatar: { kind: avatar.kind, name: source.name }, avatarLoading: false });
      },
      (e: Error) => {
        // The avatar on screen (the default one, or the last that loaded) stays.
        if (!cancelled) store.setState({ avatarLoading: false, avatarError: e.message });
      },
    );
    return () => { cancelled = true; };
  }, [source, store]);

  useEffect(() => () => loaded?.dispose(), [loaded]);

  const active = loaded ?? fallback;
  const lastSample = useRef(0);
  useFrame((state, delta) => {
    const latest = store.getState().latest;
    driver.setTarget(latest?.blendshapes ?? null, latest?.vrm ?? null);
    driver.update(active.face, Math.min(delta, 0.1));
    const t = state.clock.elapsedTime;
    if (sway.current) {
      sway.current.rotation.y = Math.sin(t * 0.6) * 0.06;
      sway.current.rotation.z = Math.sin(t * 0.45) * 0.025;
    }
    port.avatarKind = loaded ? loaded.kind : 'default';
    const now = performance.now();
    if (now - lastSample.current > 100) {
      lastSample.current = now;
      port.morph = active.face.kind === 'arkit' ? (readMorphWeights(active.face.bindings) as Record<string, number>) : (driver.current().vrm as Record<string, number>);
      port.pushHistory({ t: now, label: latest?.label ?? null, probabilities: latest?.probabilities ?? null, morph: port.morph });
    }
  });

  return (
    <group position={position} name="avatar-anchor">
      <group ref={sway}>
        <primitive object={active.root} />
      </group>
    </group>
  );
}
