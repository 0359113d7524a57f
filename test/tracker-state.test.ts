/**
 * The tracker's state machine through a fake engine (ExpressionTracker.fromEngine): dropped frames,
 * neutral calibration, recovery from a lost GPU context, disposal. No model, no GPU, no browser:
 * the engine is a function of the test's choosing, so each transition is driven on purpose.
 * The real engine's side (WebGL context loss, bad frames on real pixels) is test/tracker-bad-input.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { arkitWeights, vrmWeights } from '../src/core/blendshapes.js';
import { argmax, EXPRESSIONS } from '../src/core/labels.js';
import { MOUTH_BLENDSHAPES, type MouthBlendshape } from '../src/core/mouth-blendshapes.js';
import { ExpressionTracker, MIN_CALIBRATION_FRAMES, TrackerError, type Frame, type TrackerState } from '../src/tracker/index.js';
import { deferred, FakeEngine, probabilities } from './helpers/fake-engine.js';

const FRAME = {} as Frame;

/** A mouth head's output: the named weights, 0 elsewhere. */
const mouthRow = (named: Partial<Record<MouthBlendshape, number>>) => Float32Array.from(MOUTH_BLENDSHAPES, (name) => named[name] ?? 0);

function tracker(options: { smoothing?: false } = {}) {
  const engine = new FakeEngine();
  const states: TrackerState[] = [];
  const t = ExpressionTracker.fromEngine(engine, { ...options, onStateChange: (s) => states.push(s) });
  return { engine, states, tracker: t };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return e instanceof TrackerError ? e.code : `not a TrackerError: ${String(e)}`;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ExpressionTracker over a fake engine', () => {
  it('turns engine output into a result: label, probabilities, blendshapes', async () => {
    const { engine, tracker: t } = tracker({ smoothing: false });
    engine.raw = probabilities({ happiness: 0.8 });
    const result = await t.track(FRAME, 1000);
    expect(result?.label).toBe('happiness');
    expect(result?.confidence).toBeCloseTo(0.8, 5);
    expect(Object.values(result!.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(result?.blendshapes.mouthSmileLeft ?? 0).toBeGreaterThan(0);
    expect(result?.timings).toEqual({ preprocessMs: 1, inferenceMs: 2 });
    expect(t.state).toBe('ready');
  });

  it('a model without the mouth head: no mouth, no visemes, the blendshapes of the expression mapping alone', async () => {
    const { engine, tracker: t } = tracker({ smoothing: false });
    engine.raw = probabilities({ surprise: 0.9 });
    const result = (await t.track(FRAME, 0))!;
    expect(result.mouth).toBeNull();
    expect(result.visemes).toBeNull();
    expect(result.blendshapes).toEqual(arkitWeights(result.probabilities));
  });

  it('a model with the mouth head: raw mouth in the result, the measured mouth and jaw in the blendshapes', async () => {
    const { engine, tracker: t } = tracker({ smoothing: false });
    engine.raw = probabilities({ surprise: 0.9 });
    engine.mouth = mouthRow({ jawOpen: 0.2, mouthPucker: 0.7 });
    const result = (await t.track(FRAME, 0))!;
    expect(result.mouth?.jawOpen).toBeCloseTo(0.2, 6);
    expect(result.mouth?.mouthPucker).toBeCloseTo(0.7, 6);
    // Surprise would open the jaw 0.54 and raise the brows: the brows stay, the jaw is measured.
    expect(result.blendshapes.jawOpen).toBeCloseTo(0.2, 6);
    expect(result.blendshapes.browInnerUp).toBeCloseTo(arkitWeights(result.probabilities).browInnerUp!, 6);
    expect(result.visemes?.ou).toBeGreaterThan(0.5);
    expect(result.vrm).toEqual(vrmWeights(result.probabilities));
  });

  it('smooths the measured mouth over time and keeps the raw values unsmoothed', async () => {
    const { engine, tracker: t } = tracker();
    engine.mouth = mouthRow({ jawOpen: 0 });
    for (let i = 0; i < 10; i++) await t.track(FRAME, i * 33);
    engine.mouth = mouthRow({ jawOpen: 1 });
    const first = (await t.track(FRAME, 330))!;
    expect(first.mouth?.jawOpen).toBe(1);
    expect(first.blendshapes.jawOpen).toBeGreaterThan(0.1);
    expect(first.blendshapes.jawOpen).toBeLessThan(1);
    // Speech-fast: most of a step within a tenth of a second (three frames at 30 fps).
    let jaw = 0;
    for (let i = 1; i <= 3; i++) jaw = (await t.track(FRAME, 330 + i * 33))!.blendshapes.jawOpen!;
    expect(jaw).toBeGreaterThan(0.8);
  });

  it('calibrates the resting mouth with the neutral face: its rest level reads 0, a full shape still 1', async () => {
    const { engine, tracker: t } = tracker({ smoothing: false });
    engine.raw = probabilities({ neutral: 0.8 });
    engine.mouth = mouthRow({ jawOpen: 0.2, mouthRollLower: 0.3 });
    const calibrated = t.calibrateNeutral(100);
    for (let i = 0; i < MIN_CALIBRATION_FRAMES; i++) await t.track(FRAME, i * 30);
    await calibrated;
    const rest = (await t.track(FRAME, 300))!;
    expect(rest.blendshapes.jawOpen).toBeCloseTo(0, 6);
    expect(rest.blendshapes.mouthRollLower).toBeCloseTo(0, 6);
    expect(rest.mouth?.jawOpen).toBeCloseTo(0.2, 6);
    engine.mouth = mouthRow({ jawOpen: 1 });
    expect((await t.track(FRAME, 333))!.blendshapes.jawOpen).toBeCloseTo(1, 6);
    engine.mouth = mouthRow({ jawOpen: 0.6 });
    expect((await t.track(FRAME, 366))!.blendshapes.jawOpen).toBeCloseTo(0.5, 6);
    t.clearCalibration();
    expect((await t.track(FRAME, 400))!.blendshapes.jawOpen).toBeCloseTo(0.6, 6);
  });

  it('drops a frame while the previous one is in flight, and counts it', async () => {
    const { engine, tracker: t } = tracker();
    const hold = engine.hold();
    const first = t.track(FRAME, 0);
    expect(await t.track(FRAME, 33)).toBeNull();
    expect(await t.track(FRAME, 66)).toBeNull();
    hold.resolve();
    expect(await first).not.toBeNull();
    expect(await t.track(FRAME, 100)).not.toBeNull();
    const stats = await t.stats();
    expect(stats).toMatchObject({ droppedFrames: 2, trackedFrames: 2, backend: 'fake', inWorker: false });
    expect(engine.runs).toBe(2);
  });

  it('refuses a timestamp that is not a number without running the engine', async () => {
    const { engine, tracker: t } = tracker();
    expect(await codeOf(t.track(FRAME, Number.NaN))).toBe('bad-frame');
    expect(engine.runs).toBe(0);
  });

  it('passes an unreadable frame on as bad-frame and stays ready for the next', async () => {
    const { engine, states, tracker: t } = tracker();
    engine.failNext = new TrackerError('bad-frame', 'blank frame');
    expect(await codeOf(t.track(FRAME, 0))).toBe('bad-frame');
    expect(t.state).toBe('ready');
    expect(await t.track(FRAME, 33)).not.toBeNull();
    expect(states).toEqual([]);
  });

  it('recovers from a lost context: context-lost, frames dropped meanwhile, then ready', async () => {
    const { engine, states, tracker: t } = tracker();
    const recovery = (engine.recovery = deferred<void>());
    engine.failNext = new TrackerError('context-lost', 'WebGL context lost');
    expect(await codeOf(t.track(FRAME, 0))).toBe('context-lost');
    expect(t.state).toBe('context-lost');
    expect(engine.recoveries).toBe(1);
    expect(await t.track(FRAME, 33)).toBeNull();
    recovery.resolve();
    await vi.waitFor(() => expect(t.state).toBe('ready'));
    expect(states).toEqual(['context-lost', 'ready']);
    expect(await t.track(FRAME, 66)).not.toBeNull();
    expect((await t.stats()).droppedFrames).toBe(1);
  });

  it('stays context-lost when recovery fails, and says so on every frame', async () => {
    const { engine, states, tracker: t } = tracker();
    const recovery = (engine.recovery = deferred<void>());
    engine.failNext = new TrackerError('context-lost', 'WebGL context lost');
    await codeOf(t.track(FRAME, 0));
    recovery.reject(new Error('no GPU'));
    await vi.waitFor(async () => expect(await codeOf(t.track(FRAME, 33))).toBe('context-lost'));
    expect(t.state).toBe('context-lost');
    expect(states).toEqual(['context-lost']);
    expect(engine.runs).toBe(1);
  });

  it('calibrates to a neutral face held over the frames, then reads that face as neutral', async () => {
    const { engine, tracker: t } = tracker({ smoothing: false });
    // A resting face the model reads as sad.
    engine.raw = probabilities({ sadness: 0.55, neutral: 0.3 });
    expect((await t.track(FRAME, 0))?.label).toBe('sadness');
    const calibrated = t.calibrateNeutral(100);
    for (let i = 0; i < MIN_CALIBRATION_FRAMES; i++) await t.track(FRAME, 10 + i * 30);
    await calibrated;
    const after = await t.track(FRAME, 200);
    expect(after?.label).toBe('neutral');
    expect(after?.raw.sadness).toBeCloseTo(0.55, 5);
    expect(EXPRESSIONS[argmax(Object.values(after!.raw))]).toBe('sadness');
    t.clearCalibration();
    expect((await t.track(FRAME, 233))?.label).toBe('sadness');
  });

  it('needs MIN_CALIBRATION_FRAMES even when the duration has passed', async () => {
    const { tracker: t } = tracker({ smoothing: false });
    let done = false;
    const calibrated = t.calibrateNeutral(50).then(() => { done = true; });
    for (let i = 0; i < MIN_CALIBRATION_FRAMES - 1; i++) await t.track(FRAME, i * 100);
    await Promise.resolve();
    expect(done).toBe(false);
    await t.track(FRAME, 1000);
    await calibrated;
    expect(done).toBe(true);
  });

  it('fails a calibration that gets too few frames before its wall-clock limit', async () => {
    vi.useFakeTimers();
    const { tracker: t } = tracker();
    const calibrated = codeOf(t.calibrateNeutral(1000));
    await t.track(FRAME, 0);
    await vi.advanceTimersByTimeAsync(1000 + 5000);
    expect(await calibrated).toBe('calibration-failed');
  });

  it('lets a new calibration replace a running one, and refuses a negative duration', async () => {
    const { tracker: t } = tracker();
    const first = codeOf(t.calibrateNeutral(1000));
    const second = t.calibrateNeutral(0);
    expect(await first).toBe('calibration-failed');
    for (let i = 0; i < MIN_CALIBRATION_FRAMES; i++) await t.track(FRAME, i);
    await second;
    expect(await codeOf(t.calibrateNeutral(-1))).toBe('calibration-failed');
  });

  it('disposes once: engine freed, calibration and in-flight frame rejected, every later call refused', async () => {
    const { engine, states, tracker: t } = tracker();
    const calibrating = codeOf(t.calibrateNeutral(1000));
    const hold = engine.hold();
    const inFlight = codeOf(t.track(FRAME, 0));
    t.dispose();
    t.dispose();
    hold.resolve();
    expect(await calibrating).toBe('disposed');
    expect(await inFlight).toBe('disposed');
    expect(engine.disposed).toBe(1);
    expect(t.state).toBe('disposed');
    expect(states).toEqual(['disposed']);
    expect(await codeOf(t.track(FRAME, 33))).toBe('disposed');
    expect(await codeOf(t.calibrateNeutral(100))).toBe('disposed');
    expect(await codeOf(t.stats())).toBe('disposed');
  });
});
