/**
 * <ExpressionAvatar/>: an avatar whose face follows an expression source, for any R3F scene
 * (with or without @react-three/xr). A VRM (expression presets, perfect-sync ARKit shapes too) or a
 * glTF with ARKit-named morph targets from `url`; the built-in head when there is no url or it fails
 * to load. The face eases toward each result at the display rate (src/avatar/face-driver.ts).
 *
 *   <ExpressionAvatar expression={useExpression({ modelUrl, source: 'camera' })} url="/me.vrm" position={[0, 1.5, -1]} />
 */
import { useFrame, type ThreeElements } from '@react-three/fiber';
import { useEffect, useMemo, useState } from 'react';
import { defaultAvatarTarget, loadAvatar, type LoadedAvatar } from '../avatar/avatar-loader.js';
import { FaceDriver } from '../avatar/face-driver.js';
import type { TrackResult } from '../tracker/index.js';

/** Anything with the latest result: useExpression()'s handle, or your own object. */
export interface ExpressionSourceLike {
  readonly latest: Pick<TrackResult, 'blendshapes' | 'vrm'> | null;
}

export type ExpressionAvatarProps = Omit<ThreeElements['group'], 'children'> & {
  expression: ExpressionSourceLike;
  /** .vrm / .glb / .gltf; absent = the built-in head */
  url?: string;
  /** the load failed (the built-in head, or the previous avatar, stays) */
  onError?: (error: Error) => void;
  onLoad?: (avatar: { kind: 'vrm' | 'gltf' | 'default' }) => void;
};

export function ExpressionAvatar({ expression, url, onError, onLoad, ...group }: ExpressionAvatarProps) {
  const fallback = useMemo(defaultAvatarTarget, []);
  const [loaded, setLoaded] = useState<LoadedAvatar | null>(null);
  const driver = useMemo(() => new FaceDriver(), []);

  useEffect(() => {
    if (!url) {
      setLoaded(null);
      onLoad?.({ kind: 'default' });
      return;
    }
    let cancelled = false;
    loadAvatar(url).then(
      (avatar) => {
        if (cancelled) return avatar.dispose();
        setLoaded(avatar);
        onLoad?.({ kind: avatar.kind });
      },
      (e: Error) => { if (!cancelled) onError?.(e); },
    );
    return () => { cancelled = true; };
    // onLoad/onError are notifications: a new function identity must not reload the avatar.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url]);

  useEffect(() => () => loaded?.dispose(), [loaded]);

  const active = loaded ?? fallback;
  useFrame((_, delta) => {
    const latest = expression.latest;
    driver.setTarget(latest?.blendshapes ?? null, latest?.vrm ?? null);
    driver.update(active.face, Math.min(delta, 0.1));
  });

  return (
    <group {...group}>
      <primitive object={active.root} />
    </group>
  );
}
