/** A pressable plane with a canvas-drawn label: controller rays, hands and the mouse press it. */
import { type ThreeEvent } from '@react-three/fiber';
import { useEffect, useMemo, useState } from 'react';
import * as THREE from 'three';
import { drawButton } from './panel-draw.js';

export function useCanvasTexture(width: number, height: number) {
  return useMemo(() => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const texture = new THREE.CanvasTexture(canvas);
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.anisotropy = 4;
    return { canvas, ctx: canvas.getContext('2d')!, texture };
  }, [width, height]);
}

export function PanelButton({ text, active, position, onPress, name, size = [0.26, 0.065] }: {
  text: string; active: boolean; position: [number, number, number]; onPress: () => void; name: string;
  /** metres; the canvas keeps the same 4:1-ish aspect at 512 px wide */
  size?: [number, number];
}) {
  const { ctx, texture } = useCanvasTexture(512, Math.round((512 * size[1]) / size[0]));
  const [hover, setHover] = useState(false);
  useEffect(() => {
    drawButton(ctx, text, active, hover);
    texture.needsUpdate = true;
  }, [ctx, texture, text, active, hover]);
  useEffect(() => () => texture.dispose(), [texture]);
  return (
    <mesh
      name={name}
      position={position}
      onClick={(e: ThreeEvent<MouseEvent>) => { e.stopPropagation(); onPress(); }}
      onPointerOver={() => setHover(true)}
      onPointerOut={() => setHover(false)}
    >
      <planeGeometry args={size} />
      <meshBasicMaterial map={texture} transparent toneMapped={false} />
    </mesh>
  );
}
