/**
 * The built-in demo input: a face drawn procedurally on a canvas, cycling through expressions, and
 * captured as a MediaStream like any camera. Our own work (no dataset images), so the app shows the
 * avatar reacting on a machine with no camera. Shading is kept soft and grey-ish because the model
 * was trained on grey FER photos, not cartoons: the mouth region is what it reads.
 *
 * In the second part of some holds the face talks: the jaw opens and closes four times a second,
 * and each syllable has a vowel's lip shape (spread, rounded, pursed). Everything drawn is a pure
 * function of time (demoFaceAt), so a test knows the openness of every frame it tracks.
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
  /** teeth showing 0..1 (both rows once the jaw is open) */
  teeth: number;
  /** mouth outline from round (0) to rectangular (1): a shout, a cry */
  square: number;
  /** nasolabial folds (nose to mouth corners) 0..1: deep in anger and in a broad smile */
  folds: number;
  /** chin raised under a pushed-up lower lip 0..1, with lines down from the mouth corners: sadness */
  chin: number;
  /** lips pushed forward into a small round mouth 0..1 ("oo") */
  pucker: number;
  /** lips pulled sideways, flat and wide, 0..1 ("ee") */
  stretch: number;
}

/** `talk`: the phase's face talks in the second part of its hold (surprise and anger hold their open mouth). */
export const DEMO_SEQUENCE: readonly { name: string; params: FaceParams; talk: boolean }[] = [
  { name: 'neutral', talk: true, params: { smile: 0, open: 0, width: 1, brows: 0, teeth: 0, square: 0, folds: 0, chin: 0, pucker: 0, stretch: 0 } },
  { name: 'happiness', talk: true, params: { smile: 1, open: 0.35, width: 1.25, brows: 0.1, teeth: 1, square: 0, folds: 0, chin: 0, pucker: 0, stretch: 0 } },
  { name: 'surprise', talk: false, params: { smile: 0, open: 1, width: 0.7, brows: 1, teeth: 0, square: 0, folds: 0, chin: 0, pucker: 0, stretch: 0 } },
  // The model sees only the lower half: sadness is a wide, drooping, half-open mouth over a raised
  // chin with folds beside it; anger a tall rectangular shout with both rows of teeth bared and deep
  // folds. Milder versions (a plain frown, pressed lips) read as neutral: test/demo-face.test.ts.
  { name: 'sadness', talk: true, params: { smile: -0.5, open: 0.3, width: 1.2, brows: 0.4, teeth: 0, square: 0, folds: 0.6, chin: 0.5, pucker: 0, stretch: 0 } },
  { name: 'anger', talk: false, params: { smile: 0, open: 1.2, width: 0.8, brows: -1, teeth: 1, square: 1, folds: 1, chin: 0, pucker: 0, stretch: 0 } },
];

export const DEMO_HOLD_MS = 2600;
export const DEMO_BLEND_MS = 400;
/** The still part of a hold, showing the expression alone; a talking phase talks from here to the hold's end. */
export const DEMO_TALK_START_MS = 1100;
/** One syllable: the jaw opens and closes once (4 Hz, a calm speaking rate). */
export const DEMO_SYLLABLE_MS = 250;
/** Talking eases in and out over this, so the jaw never jumps from the expression's opening. */
const TALK_EASE_MS = 150;

/** Each syllable's vowel: its peak jaw opening and the lip shape it holds while the jaw is open. */
const VOWELS = {
  a: { open: 1, pucker: 0, stretch: 0, smile: 0 },
  e: { open: 0.45, pucker: 0, stretch: 0.7, smile: 0 },
  i: { open: 0.3, pucker: 0, stretch: 0.5, smile: 0.3 },
  o: { open: 0.7, pucker: 0.6, stretch: 0, smile: 0 },
  u: { open: 0.2, pucker: 1, stretch: 0, smile: 0 },
  /** a pause between words: the mouth stays closed */
  '-': { open: 0, pucker: 0, stretch: 0, smile: 0 },
} as const;
/** A fixed phrase, 11 syllables long so that successive talking phases say different parts of it. */
const PHRASE: readonly (keyof typeof VOWELS)[] = ['a', 'e', 'o', '-', 'i', 'a', 'u', 'e', '-', 'o', 'a'];

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
const smoothstep = (k: number) => { const t = Math.min(1, Math.max(0, k)); return t * t * (3 - 2 * t); };
const PARAM_KEYS = ['smile', 'open', 'width', 'brows', 'teeth', 'square', 'folds', 'chin', 'pucker', 'stretch'] as const satisfies readonly (keyof FaceParams)[];

/** The mouth of speech at time t (ms since the start of talking): opening and lip shape, 0 between syllables. */
export function talkAt(tMs: number): { open: number; pucker: number; stretch: number; smile: number } {
  const k = Math.floor(tMs / DEMO_SYLLABLE_MS);
  const u = tMs / DEMO_SYLLABLE_MS - k;
  const vowel = VOWELS[PHRASE[((k % PHRASE.length) + PHRASE.length) % PHRASE.length]];
  const jaw = Math.sin(Math.PI * u) ** 1.5;
  // The lips take their shape early and let go late: they lead and trail the jaw.
  const lips = Math.sin(Math.PI * u) ** 0.5;
  return { open: vowel.open * jaw, pucker: vowel.pucker * lips, stretch: vowel.stretch * lips, smile: vowel.smile * lips };
}

/** The expression shown at time t (ms since start): holds (talking in its second part, for a talking phase), then blends into the next one. */
export function demoFaceAt(tMs: number): { name: string; params: FaceParams } {
  const period = DEMO_HOLD_MS + DEMO_BLEND_MS;
  const n = DEMO_SEQUENCE.length;
  const step = Math.floor(tMs / period);
  const within = tMs - step * period;
  const current = DEMO_SEQUENCE[((step % n) + n) % n];
  if (within < DEMO_HOLD_MS) {
    if (!current.talk || within < DEMO_TALK_START_MS) return current;
    const talking = within - DEMO_TALK_START_MS;
    const w = smoothstep(Math.min(talking, DEMO_HOLD_MS - within) / TALK_EASE_MS);
    const say = talkAt(step * (DEMO_HOLD_MS - DEMO_TALK_START_MS) + talking);
    const p = current.params;
    return {
      name: current.name,
      params: {
        ...p,
        open: lerp(p.open, say.open, w),
        pucker: w * say.pucker,
        stretch: w * say.stretch,
        smile: Math.min(1, p.smile + w * say.smile),
      },
    };
  }
  const next = DEMO_SEQUENCE[(((step + 1) % n) + n) % n];
  const s = smoothstep((within - DEMO_HOLD_MS) / DEMO_BLEND_MS);
  const p = current.params, q = next.params;
  return {
    name: s < 0.5 ? current.name : next.name,
    params: Object.fromEntries(PARAM_KEYS.map((k) => [k, lerp(p[k], q[k], s)])) as unknown as FaceParams,
  };
}

/** The drawn mouth's opening at time t (demoMouthOpening of the face demoFaceAt draws then). */
export function demoOpennessAt(tMs: number): number {
  return demoMouthOpening(demoFaceAt(tMs).params);
}

/** Centre of the face's ellipse (canvas pixels, before the sway), and the eyes' distance. */
const FACE_CY = 125;
export const DEMO_EYE_DISTANCE_PX = 60;
const mouthLine = FACE_CY + 52;

/**
 * The mouth's outline (x relative to the face's centre line): corners lift with smile, the lower lip
 * drops with the jaw. Each lip is a cubic curve: at square 0 it is exactly the old quadratic
 * (degree-elevated), at 1 its control points reach out to the corners, giving the rectangular mouth
 * of a shout or a cry. A pucker narrows the mouth, rounds it and thickens the lips; a stretch
 * widens and flattens it.
 */
function mouthShape(params: FaceParams) {
  const my = mouthLine;
  const mw = 30 * params.width * (1 - 0.35 * params.pucker + 0.2 * params.stretch);
  const cornerY = my - params.smile * 11 + params.stretch * 2;
  const gap = 3 + params.open * 30;
  const upperMid = my - 3 - params.open * 3 + params.smile * 2;
  const lowerMid = my + gap - params.chin * 5;
  const reach = 1 / 3 + params.square * 0.6 + params.pucker * 0.5;
  const pull = 2 / 3 + params.square / 3 + params.pucker * 0.5 - params.stretch * 0.2;
  const upperCtl = cornerY + pull * (upperMid - 2 + params.smile * 6 - cornerY);
  const lowerCtl = cornerY + pull * (lowerMid + params.smile * 10 - cornerY);
  return { mw, cornerY, upperMid, lowerMid, reach, upperCtl, lowerCtl, lip: 4 + 3 * params.pucker };
}

/**
 * The drawn mouth's inner-lip gap at its centre, in eye distances: the measure whose ramp is the
 * landmark teacher's jawOpen (src/core/mouth-blendshapes.ts). Read off the drawn curves (a cubic
 * whose two control points share a height passes 3/4 of the way to them at its middle), less the
 * lip line's width, so lip shapes that flatten or round the mouth count as they look.
 */
export function demoMouthOpening(params: FaceParams): number {
  const { upperCtl, lowerCtl, lip } = mouthShape(params);
  return Math.max(0, 0.75 * (lowerCtl - upperCtl) - lip) / DEMO_EYE_DISTANCE_PX;
}

/** Draws one frame of the demo face with the given parameters. */
export function drawDemoFace(ctx: CanvasRenderingContext2D, params: FaceParams, tMs: number): void {
  const w = DEMO_WIDTH, h = DEMO_HEIGHT;
  const cx = w / 2, cy = FACE_CY;
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
    const ex = cx + (side * DEMO_EYE_DISTANCE_PX) / 2, ey = cy - 20;
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

  const { mw, cornerY, upperMid, lowerMid, reach, upperCtl, lowerCtl, lip } = mouthShape(params);
  const mouthPath = () => {
    ctx.beginPath();
    ctx.moveTo(cx - mw, cornerY);
    ctx.bezierCurveTo(cx - mw * reach, upperCtl, cx + mw * reach, upperCtl, cx + mw, cornerY);
    ctx.bezierCurveTo(cx + mw * reach, lowerCtl, cx - mw * reach, lowerCtl, cx - mw, cornerY);
  };
  ctx.fillStyle = '#3a1518';
  mouthPath();
  ctx.fill();
  if (params.teeth > 0.05) {
    ctx.save();
    mouthPath();
    ctx.clip();
    ctx.fillStyle = `rgba(245,240,230,${Math.min(1, params.teeth)})`;
    ctx.fillRect(cx - mw, upperMid - 8 + params.smile * 4, mw * 2, 9 + params.open * 6);
    // the lower row shows once the jaw is open (bared teeth)
    if (params.open > 0.25) ctx.fillRect(cx - mw, lowerMid - 7 - params.open * 4, mw * 2, 12);
    ctx.restore();
  }
  ctx.strokeStyle = '#9c4a48';
  ctx.lineWidth = lip;
  mouthPath();
  ctx.stroke();
  // the shadow under the lower lip and the chin crease: cues the model sees in photos
  const crease = lowerMid + 14 + params.smile * 6;
  ctx.strokeStyle = `rgba(90,55,40,${0.45 + 0.4 * params.chin})`;
  ctx.lineWidth = 3 + params.chin * 2;
  ctx.beginPath();
  ctx.moveTo(cx - 12 - params.chin * 8, crease + params.chin * 4);
  ctx.quadraticCurveTo(cx, crease - params.chin * 8, cx + 12 + params.chin * 8, crease + params.chin * 4);
  ctx.stroke();
  if (params.chin > 0.05) {
    // lines down and out from the drooping corners
    ctx.strokeStyle = `rgba(90,55,40,${0.6 * params.chin})`;
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.moveTo(cx + side * (mw + 2), cornerY + 2);
      ctx.quadraticCurveTo(cx + side * (mw + 6), cornerY + 14, cx + side * (mw + 4), cornerY + 26);
      ctx.stroke();
    }
  }
  const my = mouthLine;
  const folds = Math.max(params.folds, params.smile > 0.3 ? params.smile : 0);
  if (folds > 0.05) {
    ctx.strokeStyle = `rgba(110,65,48,${0.65 * folds})`;
    ctx.lineWidth = 3 + folds * 2;
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
