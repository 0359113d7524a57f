/**
 * The built-in demo input: a face drawn procedurally on a canvas, cycling through expressions, and
 * captured as a MediaStream like any camera. Our own work (no dataset images), so the app shows the
 * avatar reacting on a machine with no camera. Shading is kept soft and grey-ish because the model
 * was trained on grey FER photos, not cartoons: the mouth region is what it reads.
 */
import type { Box } from '../core/preprocess.js';

export const DEMO_WIDTH = 320;
export const DEMO_HEIGHT = 240;

/** The square around the drawn face (forehead to chin), like a FER crop: the tracker's fixed ROI for the demo. */
export const DEMO_FACE_BOX: Box = Object.freeze({ x: 60 / DEMO_WIDTH, y: 28 / DEMO_HEIGHT, width: 200 / DEMO_WIDTH, height: 200 / DEMO_HEIGHT });

export interface FaceParams {
  /** mouth corners up (+) or down (-), -1..1 */
  smile: number;
  /** jaw opening 0..1 */
  open: number;
  /** mouth width factor around 1 */
  width: number;
  /** brows up (+) or knitted down (-), -1..1 */
  brows: number;
  /** teeth showing 0..1 */
  teeth: number;
}

export const DEMO_SEQUENCE: readonly { name: string; params: FaceParams }[] = [
  { name: 'neutral', params: { smile: 0, open: 0, width: 1, brows: 0, teeth: 0 } },
  { name: 'happiness', params: { smile: 1, open: 0.35, width: 1.25, brows: 0.1, teeth: 1 } },
  { name: 'surprise', params: { smile: 0, open: 1, width: 0.7, brows: 1, teeth: 0 } },
  { name: 'sadness', params: { smile: -0.9, open: 0, width: 0.95, brows: 0.4, teeth: 0 } },
  { name: 'anger', params: { smile: -0.3, open: 0.05, width: 0.9, brows: -1, teeth: 0.3 } },
];

export const DEMO_HOLD_MS = 2600;
export const DEMO_BLEND_MS = 400;

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/** The expression shown at time t (ms since start): holds, then blends into the next one. */
export function demoFaceAt(tMs: number): { name: string; params: FaceParams } {
  const period = DEMO_HOLD_MS + DEMO_BLEND_MS;
  const n = DEMO_SEQUENCE.length;
  const step = Math.floor(tMs / period);
  const within = tMs - step * period;
  const current = DEMO_SEQUENCE[((step % n) + n) % n];
  if (within < DEMO_HOLD_MS) return current;
  const next = DEMO_SEQUENCE[(((step + 1) % n) + n) % n];
  const k = (within - DEMO_HOLD_MS) / DEMO_BLEND_MS;
  const s = k * k * (3 - 2 * k);
  const p = current.params, q = next.params;
  return {
    name: s < 0.5 ? current.name : next.name,
    params: { smile: lerp(p.smile, q.smile, s), open: lerp(p.open, q.open, s), width: lerp(p.width, q.width, s), brows: lerp(p.brows, q.brows, s), teeth: lerp(p.teeth, q.teeth, s) },
  };
}

/** Draws one frame of the demo face with the given parameters. */
export function drawDemoFace(ctx: CanvasRenderingContext2D, params: FaceParams, tMs: number): void {
  const w = DEMO_WIDTH, h = DEMO_HEIGHT;
  const cx = w / 2, cy = 125;
  ctx.save();
  ctx.fillStyle = '#8a8f96';
  ctx.fillRect(0, 0, w, h);
  // a slow sway, so the input looks alive and the detector path sees motion
  ctx.translate(Math.sin(tMs / 1700) * 3, Math.sin(tMs / 2300) * 2);

  ctx.fillStyle = '#6d5a4c';
  ctx.fillRect(cx - 28, cy + 80, 56, 60);
  const skin = ctx.createRadialGradient(cx - 20, cy - 30, 10, cx, cy, 120);
  skin.addColorStop(0, '#e9c9ad');
  skin.addColorStop(0.7, '#c99d7e');
  skin.addColorStop(1, '#8c6650');
  ctx.fillStyle = skin;
  ctx.beginPath();
  ctx.ellipse(cx, cy, 78, 100, 0, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#3b2a20';
  ctx.beginPath();
  ctx.ellipse(cx, cy - 72, 82, 42, 0, Math.PI, Math.PI * 2);
  ctx.fill();

  // eyes and brows
  const browLift = params.brows * 9;
  for (const side of [-1, 1]) {
    const ex = cx + side * 30, ey = cy - 20;
    ctx.fillStyle = '#f4efe9';
    ctx.beginPath();
    ctx.ellipse(ex, ey, 13, 6 + Math.max(0, params.brows) * 3, 0, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#2a1d16';
    ctx.beginPath();
    ctx.arc(ex, ey, 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.strokeStyle = '#3b2a20';
    ctx.lineWidth = 5;
    ctx.lineCap = 'round';
    ctx.beginPath();
    const knit = Math.min(0, params.brows) * 8;
    ctx.moveTo(ex - side * 14, ey - 16 - browLift + knit * -0.8);
    ctx.lineTo(ex + side * 14, ey - 18 - browLift * 0.7 - knit * 0.4);
    ctx.stroke();
  }

  // nose
  ctx.strokeStyle = 'rgba(110,70,50,0.7)';
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(cx - 2, cy - 10);
  ctx.quadraticCurveTo(cx - 12, cy + 18, cx, cy + 22);
  ctx.quadraticCurveTo(cx + 8, cy + 22, cx + 10, cy + 17);
  ctx.stroke();

  // mouth: corners lift with smile, the lower lip drops with the jaw
  const mw = 30 * params.width, my = cy + 52;
  const corner = -params.smile * 11;
  const gap = 3 + params.open * 30;
  const upperMid = my - 3 - params.open * 3 + params.smile * 2;
  const lowerMid = my + gap;
  ctx.fillStyle = '#3a1518';
  ctx.beginPath();
  ctx.moveTo(cx - mw, my + corner);
  ctx.quadraticCurveTo(cx, upperMid - 2 + params.smile * 6, cx + mw, my + corner);
  ctx.quadraticCurveTo(cx, lowerMid + params.smile * 10, cx - mw, my + corner);
  ctx.fill();
  if (params.teeth > 0.05) {
    ctx.save();
    ctx.clip();
    ctx.fillStyle = `rgba(245,240,230,${Math.min(1, params.teeth)})`;
    ctx.fillRect(cx - mw, upperMid - 8 + params.smile * 4, mw * 2, 9 + params.open * 6);
    ctx.restore();
  }
  ctx.strokeStyle = '#9c4a48';
  ctx.lineWidth = 4;
  ctx.beginPath();
  ctx.moveTo(cx - mw, my + corner);
  ctx.quadraticCurveTo(cx, upperMid - 2 + params.smile * 6, cx + mw, my + corner);
  ctx.quadraticCurveTo(cx, lowerMid + params.smile * 10, cx - mw, my + corner);
  ctx.stroke();
  // the shadow under the lower lip and the chin crease: cues the model sees in photos
  ctx.strokeStyle = 'rgba(90,55,40,0.45)';
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(cx - 12, lowerMid + 14 + params.smile * 6);
  ctx.quadraticCurveTo(cx, lowerMid + 18 + params.smile * 6, cx + 12, lowerMid + 14 + params.smile * 6);
  ctx.stroke();
  if (params.smile > 0.3) {
    ctx.strokeStyle = `rgba(120,75,55,${0.6 * params.smile})`;
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.moveTo(cx + side * (mw - 2), cy + 12);
      ctx.quadraticCurveTo(cx + side * (mw + 14), my - 4, cx + side * (mw + 6), my + 14);
      ctx.stroke();
    }
  }
  ctx.restore();
}

export interface DemoInput {
  stream: MediaStream;
  canvas: HTMLCanvasElement;
  /** the expression on screen now */
  current(): string;
  stop(): void;
}

/** Starts drawing the demo face at ~30 fps and returns it as a MediaStream. */
export function startDemoInput(fps = 30): DemoInput {
  const canvas = document.createElement('canvas');
  canvas.width = DEMO_WIDTH;
  canvas.height = DEMO_HEIGHT;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('demo input: no 2D canvas context');
  const start = performance.now();
  let name = DEMO_SEQUENCE[0].name;
  const draw = () => {
    const t = performance.now() - start;
    const face = demoFaceAt(t);
    name = face.name;
    drawDemoFace(ctx, face.params, t);
  };
  draw();
  // A timer, not requestAnimationFrame: rAF stops while an immersive XR session runs.
  const timer = setInterval(draw, 1000 / fps);
  const stream = canvas.captureStream(fps);
  return {
    stream,
    canvas,
    current: () => name,
    stop() {
      clearInterval(timer);
      for (const track of stream.getTracks()) track.stop();
    },
  };
}
