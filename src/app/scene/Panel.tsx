/**
 * The in-headset panel: live class probabilities, input, ROI and tracker status on a canvas texture,
 * plus calibrate-neutral and record buttons that controller rays, hands and the mouse can press.
 */
import { useFrame } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import type { AppController } from '../state/controller.js';
import { describeRoi } from '../state/roi.js';
import { describeInference, describeLoad, describeSpeed } from '../state/status.js';
import { useStore } from '../state/store.js';
import { PANEL_WIDTH_M } from './layout.js';
import type { ScenePort } from './probe.js';
import { QuestionnairePanel } from './QuestionnairePanel.js';
import { drawPanel, PANEL_PX } from './panel-draw.js';
import { PanelButton, useCanvasTexture } from './PanelButton.js';

const REDRAW_MS = 120;

export function Panel({ controller, port, position, rotationY }: { controller: AppController; port: ScenePort; position: [number, number, number]; rotationY: number }) {
  const store = controller.store;
  const { ctx, texture } = useCanvasTexture(PANEL_PX.width, PANEL_PX.height);
  const recording = useStore(store, (s) => s.recording);
  const studyPhase = useStore(store, (s) => s.study.phase);
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
      jawOpen: latest?.mouth ? latest.blendshapes.jawOpen ?? 0 : null,
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
      <PanelButton name="button-calibrate" text={calibrating ? 'Calibrating…' : 'Calibrate'} active={calibrating} size={[0.17, 0.06]} position={[-0.185, -height / 2 - 0.05, 0]} onPress={() => void controller.calibrateNeutral()} />
      <PanelButton name="button-record" text={recording ? '■ Stop' : '● Record'} active={recording} size={[0.17, 0.06]} position={[0, -height / 2 - 0.05, 0]} onPress={() => void controller.toggleRecording()} />
      <PanelButton name="button-mark" text="Mark" active={false} size={[0.17, 0.06]} position={[0.185, -height / 2 - 0.05, 0]} onPress={() => controller.study.mark('controller')} />
      {studyPhase === 'questionnaire' && <QuestionnairePanel controller={controller} position={[0, -height / 2 - 0.2, 0.01]} />}
    </group>
  );
}
