/**
 * The mirror avatar: the library's ExpressionAvatar, driven from the app's store, with an idle sway
 * and the read-back the debug snapshot and tests use (ScenePort).
 */
import { useFrame } from '@react-three/fiber';
import { useMemo, useRef } from 'react';
import type * as THREE from 'three';
import { ExpressionAvatar, type ExpressionAvatarHandle, type ExpressionSourceLike } from '../../embed/ExpressionAvatar.js';
import type { AppState, Store } from '../state/store.js';
import { useStore } from '../state/store.js';
import type { ScenePort } from './probe.js';

export function AvatarView({ store, port, position }: { store: Store<AppState>; port: ScenePort; position: [number, number, number] }) {
  const source = useStore(store, (s) => s.avatarSource);
  const expression = useMemo<ExpressionSourceLike>(() => ({ get latest() { return store.getState().latest; } }), [store]);
  const avatar = useRef<ExpressionAvatarHandle>(null);
  const sway = useRef<THREE.Group>(null);
  const lastSample = useRef(0);

  useFrame((state) => {
    const t = state.clock.elapsedTime;
    if (sway.current) {
      sway.current.rotation.y = Math.sin(t * 0.6) * 0.06;
      sway.current.rotation.z = Math.sin(t * 0.45) * 0.025;
    }
    if (!avatar.current) return;
    port.avatarKind = avatar.current.kind;
    const now = performance.now();
    if (now - lastSample.current > 100) {
      lastSample.current = now;
      const latest = store.getState().latest;
      port.morph = avatar.current.appliedWeights();
      port.pushHistory({ t: now, label: latest?.label ?? null, probabilities: latest?.probabilities ?? null, morph: port.morph });
    }
  });

  return (
    <group position={position} name="avatar-anchor">
      <group ref={sway}>
        <ExpressionAvatar
          ref={avatar}
          expression={expression}
          url={source?.url}
          name={source?.name}
          onLoad={(loaded) => {
            if (loaded.kind !== 'default' && source) store.setState({ avatar: { kind: loaded.kind, name: source.name }, avatarLoading: false });
          }}
          // The avatar on screen (the default one, or the last that loaded) stays.
          onError={(e) => store.setState({ avatarLoading: false, avatarError: e.message })}
        />
      </group>
    </group>
  );
}
