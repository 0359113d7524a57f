/** The mirror avatar: the default head, or a loaded VRM/glTF, with its face driven every frame. */
import { useFrame } from '@react-three/fiber';
import { useEffect, useMemo, useRef, useState } from 'react';
import type * as THREE from 'three';
import type { AppState, Store } from '../state/store.js';
import { useStore } from '../state/store.js';
import { defaultAvatarTarget, loadAvatar, type LoadedAvatar } from '../../avatar/avatar-loader.js';
import { FaceDriver, readMorphWeights } from '../../avatar/face-driver.js';
import type { ScenePort } from './probe.js';

export function AvatarView({ store, port, position }: { store: Store<AppState>; port: ScenePort; position: [number, number, number] }) {
  const source = useStore(store, (s) => s.avatarSource);
  const fallback = useMemo(defaultAvatarTarget, []);
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
