/**
 * <ExpressionAvatar/>: an avatar whose face follows an expression source, for any R3F scene
 * (with or without @react-three/xr). A VRM (expression presets, perfect-sync ARKit shapes too) or a
 * glTF with ARKit-named morph targets from `url`; the built-in head when there is no url or it fails
 * to load. The face eases toward each result at the display rate (src/avatar/face-driver.ts).
 *
 *   <ExpressionAvatar expression={useExpression({ modelUrl, source: 'camera' })} url="/me.vrm" position={[0, 1.5, -1]} />
 */
import { useFrame, type ThreeElements } from '@react-three/fiber';
import { useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import { defaultAvatarTarget, loadAvatar, type LoadedAvatar } from '../avatar/avatar-loader.js';
import { FaceDriver, readMorphWeights } from '../avatar/face-driver.js';
import type { TrackResult } from '../tracker/index.js';

/** Anything with the latest result: useExpression()'s handle, or your own object. */
export interface ExpressionSourceLike {
  /** `visemes` (a model with the mouth head) lets a VRM without ARKit mouth shapes speak */
  readonly latest: (Pick<TrackResult, 'blendshapes' | 'vrm'> & Partial<Pick<TrackResult, 'visemes'>>) | null;
}

/** What an ExpressionAvatar's ref gives: what is on screen, for status lines and tests. */
export interface ExpressionAvatarHandle {
  /** the built-in head until an avatar from `url` has loaded */
  readonly kind: 'default' | 'vrm' | 'gltf';
  /** weights as applied at the last frame: ARKit morph influences read back from the meshes, or a VRM's presets (and visemes) */
  appliedWeights(): Record<string, number>;
}

export type ExpressionAvatarProps = Omit<ThreeElements['group'], 'children' | 'ref'> & {
  expression: ExpressionSourceLike;
  /** .vrm / .glb / .gltf; absent = the built-in head */
  url?: string;
  /** what error messages call the avatar (default: the url; say the file name for a blob: URL) */
  name?: string;
  /** the load failed (the built-in head, or the previous avatar, stays) */
  onError?: (error: Error) => void;
  onLoad?: (avatar: { kind: 'vrm' | 'gltf' | 'default' }) => void;
  ref?: Ref<ExpressionAvatarHandle>;
};

export function ExpressionAvatar({ expression, url, name, onError, onLoad, ref, ...group }: ExpressionAvatarProps) {
  const [fallback] = useState(defaultAvatarTarget);
  const [loaded, setLoaded] = useState<LoadedAvatar | null>(null);
  const [driver] = useState(() => new FaceDriver());
  // onLoad/onError are notifications: a new function identity must not reload the avatar.
  const notify = useRef({ onLoad, onError });
  useEffect(() => {
    notify.current = { onLoad, onError };
  });

  useEffect(() => {
    if (!url) {
      setLoaded(null);
      notify.current.onLoad?.({ kind: 'default' });
      return;
    }
    let cancelled = false;
    loadAvatar(url, name ?? url).then(
      (avatar) => {
        if (cancelled) return avatar.dispose();
        setLoaded(avatar);
        notify.current.onLoad?.({ kind: avatar.kind });
      },
      (e: Error) => { if (!cancelled) notify.current.onError?.(e); },
    );
    return () => { cancelled = true; };
  }, [url, name]);

  // The one place a loaded avatar is freed: when another replaces it, or on unmount.
  useEffect(() => () => loaded?.dispose(), [loaded]);

  const active = loaded ?? fallback;
  useImperativeHandle(ref, (): ExpressionAvatarHandle => ({
    kind: loaded?.kind ?? 'default',
    appliedWeights: () => (active.face.kind === 'arkit' ? readMorphWeights(active.face.bindings) : driver.current().vrm) as Record<string, number>,
  }), [loaded, active, driver]);

  useFrame((_, delta) => {
    const latest = expression.latest;
    driver.setTarget(latest?.blendshapes ?? null, latest?.vrm ?? null, latest?.visemes ?? null);
    driver.update(active.face, Math.min(delta, 0.1));
  });

  return (
    <group {...group}>
      <primitive object={active.root} />
    </group>
  );
}
