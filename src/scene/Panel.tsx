/**
 * The in-headset panel: live class probabilities, input, ROI and tracker status on a canvas texture,
 * plus calibrate-neutral and record buttons that controller rays, hands and the mouse can press.
 */
import { useFrame, type ThreeEvent } from '@react-three/fiber';
import { useEffect, useMemo, useRef, useState } from 'react';
import * as THREE from 'three';
import type { AppController } from '../app/controller.js';
import { describeRoi } from '../app/roi.js';
import { describeInference, describeLoad, describeSpeed } from '../app/status.js';
import { useStore } from '../app/store.js';
import type { ScenePort } from './probe.js';
import { drawButton, drawPanel, PANEL_PX } from './panel-draw.js';

const PANEL_WIDTH_M = 0.56;
const REDRAW_MS = 120;

function useCanvasTexture(width: number, height: number) {
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

function PanelButton({ text, active, position, onPress, name }: { text: string; active: boolean; position: [number, number, number]; onPress: () => void; name: string }) {
  const { ctx, texture } = useCanvasTexture(512, 128);
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
      <planeGeometry args={[0.26, 0.065]} />
      <meshBasicMaterial map={texture} transparent toneMapped={false} />
    </mesh>
  );
}

export function Panel({ controller, port, position, rotationY }: { controller: AppController; port: ScenePort; position: [number, number, number]; rotationY: number }) {
  const store = controller.store;
  const { ctx, texture } = useCanvasTexture(PANEL_PX.width, PANEL_PX.height);
  const recording = useStore(store, (s) => s.recording);
  const calibrating = useStore(store, (s) => s.calibration === 'running');
  const lastDraw = useRef(-Infinity);
  const height = (PANEL_WIDTH_M * PANEL_PX.height) / PANEL_PX.width;

  useEffect(() => () => texture.dispose(), [texture]);
  useFrame(() => {
    const now = performance.now();
    if (now - lastDraw.current < REDRAW_MS) return;
    lastDraw.current = now;
    const s = store.getState();
    const latest = s.latest;
    drawPanel(ctx, {
      label: latest?.label ?? null,
      confidence: latest?.confidence ?? 0,
      probabilities: latest?.probabilities ?? null,
      input: s.input ? `${s.input.kind === 'demo' ? 'demo' : s.input.kind}: ${s.input.label}` : 'none',
      roi: describeRoi(s.roi, latest?.roi),
      status: s.trackerStatus === 'loading' ? describeLoad(s.loadProgress) : `${describeInference(s)}${s.osc.state === 'off' ? '' : ` · OSC ${s.osc.state === 'open' ? 'sending' : 'connecting…'}`}`,
      speed: describeSpeed(s, port.fps()),
      message: s.trackerMessage ?? s.calibrationMessage ?? s.recorderMessage ?? s.modelNotice ?? s.inputNotice,
    });
    texture.needsUpdate = true;
  });

  return (
    <group position={position} rotation={[0, rotationY, 0]} name="panel">
      <mesh name="panel-face">
        <planeGeometry args={[PANEL_WIDTH_M, height]} />
        <meshBasicMaterial map={texture} transparent toneMapped={false} side={THREE.DoubleSide} />
      </mesh>
      <PanelButton name="button-calibrate" text={calibrating ? 'Calibrating…' : 'Calibrate neutral'} active={calibrating} position={[-0.14, -height / 2 - 0.05, 0]} onPress={() => void controller.calibrateNeutral()} />
      <PanelButton name="button-record" text={recording ? '■ Stop' : '● Record'} active={recording} position={[0.14, -height / 2 - 0.05, 0]} onPress={() => void controller.toggleRecording()} />
    </group>
  );
}
