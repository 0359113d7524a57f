/**
 * ExpressionSession, the tracking loop under useExpression() and the app's controller, with a fake
 * camera opener, fake video elements and trackers over a fake engine: no browser, no model. What
 * React's effects do to it (StrictMode's mount → cleanup → mount, a source changed while the camera
 * is still opening) is spelled out as the setSource / setTracker calls those effects make.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExpressionSession } from '../src/embed/expression-session.js';
import { ExpressionTracker, TrackerError, type TrackerOptions } from '../src/tracker/index.js';
import { deferred, FakeEngine, type Deferred } from './helpers/fake-engine.js';

class FakeTrack {
  stopped = 0;
  stop() { this.stopped++; }
}

function fakeStream(): MediaStream & { track: FakeTrack } {
  const track = new FakeTrack();
  return { track, getTracks: () => [track] } as unknown as MediaStream & { track: FakeTrack };
}

function fakeVideo(stream: MediaStream | null = null): HTMLVideoElement {
  return { readyState: 4, paused: false, srcObject: stream, play: () => Promise.resolve() } as unknown as HTMLVideoElement;
}

const OPTIONS: TrackerOptions = { modelUrl: '/models/halfface/model.json' };

/** A session whose cameras, videos and trackers the test hands out. */
function harness() {
  const cameras: Deferred<MediaStream>[] = [];
  const videos: HTMLVideoElement[] = [];
  const engines: FakeEngine[] = [];
  const session = new ExpressionSession({
    maxFps: 1000,
    openCamera: () => {
      const camera = deferred<MediaStream>();
      cameras.push(camera);
      return camera.promise;
    },
    videoFor: (stream) => {
      const video = fakeVideo(stream);
      videos.push(video);
      return video;
    },
    createTracker: async () => {
      const engine = new FakeEngine();
      engines.push(engine);
      return ExpressionTracker.fromEngine(engine);
    },
  });
  let changes = 0;
  session.subscribe(() => changes++);
  return { session, cameras, videos, engines, changes: () => changes };
}

/** Lets pending promise callbacks and a few loop ticks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

let live: ExpressionSession[] = [];
afterEach(() => {
  for (const session of live) session.dispose();
  live = [];
});
function started() {
  const h = harness();
  live.push(h.session);
  return h;
}

describe('ExpressionSession: the camera', () => {
  it('stops a camera that finishes opening after the source was let go (StrictMode mount → cleanup → mount)', async () => {
    const { session, cameras, videos } = started();
    await session.setTracker(OPTIONS);
    session.setSource('camera');
    session.setSource(null);
    session.setSource('camera');
    const first = fakeStream(), second = fakeStream();
    cameras[0].resolve(first);
    cameras[1].resolve(second);
    await settle();
    expect(first.track.stopped).toBe(1);
    expect(second.track.stopped).toBe(0);
    expect(videos.map((v) => v.srcObject)).toEqual([second]);
    await vi.waitFor(() => expect(session.frames).toBeGreaterThan(0));
  });

  it('stops a camera still opening when the source changes to another input', async () => {
    const { session, cameras } = started();
    await session.setTracker(OPTIONS);
    session.setSource('camera');
    const other = fakeStream();
    session.setSource(other);
    const camera = fakeStream();
    cameras[0].resolve(camera);
    await settle();
    expect(camera.track.stopped).toBe(1);
    expect(other.track.stopped).toBe(0);
    await vi.waitFor(() => expect(session.frames).toBeGreaterThan(0));
  });

  it('stops a camera it opened when the source goes, and one still opening at dispose', async () => {
    const { session, cameras } = started();
    session.setSource('camera');
    const camera = fakeStream();
    cameras[0].resolve(camera);
    await settle();
    session.setSource(null);
    expect(camera.track.stopped).toBe(1);
    session.setSource('camera');
    session.dispose();
    const late = fakeStream();
    cameras[1].resolve(late);
    await settle();
    expect(late.track.stopped).toBe(1);
  });

  it('leaves a stream it was given running', async () => {
    const { session } = started();
    const stream = fakeStream();
    session.setSource(stream);
    session.setSource(null);
    expect(stream.track.stopped).toBe(0);
  });

  it('shows a camera that cannot open as an error, until another source is chosen', async () => {
    const { session, cameras } = started();
    await session.setTracker(OPTIONS);
    session.setSource('camera');
    cameras[0].reject(new TrackerError('camera-denied', 'camera permission denied'));
    await settle();
    expect(session.status).toBe('error');
    expect((session.error as TrackerError).code).toBe('camera-denied');
    session.setSource(fakeStream());
    expect(session.status).toBe('ready');
    expect(session.error).toBeNull();
  });

  it('keeps a camera failure that comes while the model loads (the tracker arriving does not hide it)', async () => {
    const { session, cameras } = started();
    const tracker = session.setTracker(OPTIONS);
    session.setSource('camera');
    cameras[0].reject(new TrackerError('camera-absent', 'no camera'));
    await tracker;
    await settle();
    expect(session.status).toBe('error');
    expect((session.error as TrackerError).code).toBe('camera-absent');
  });
});

describe('ExpressionSession: the tracker', () => {
  it('disposes the tracker it replaces, and one that arrives after a newer request', async () => {
    const pending: Deferred<ExpressionTracker>[] = [];
    const session = new ExpressionSession({ createTracker: () => { const d = deferred<ExpressionTracker>(); pending.push(d); return d.promise; } });
    live.push(session);
    const first = session.setTracker(OPTIONS);
    const second = session.setTracker(OPTIONS);
    const [a, b] = [new FakeEngine(), new FakeEngine()];
    pending[0].resolve(ExpressionTracker.fromEngine(a));
    pending[1].resolve(ExpressionTracker.fromEngine(b));
    expect(await first).toBeNull();
    expect(await second).toBe(session.tracker);
    expect(a.disposed).toBe(1);
    expect(session.status).toBe('ready');
    await session.setTracker(null);
    expect(b.disposed).toBe(1);
    expect(session.status).toBe('loading');
  });

  it('reports a tracker that cannot be created, unless a newer request replaced it', async () => {
    const failing = new ExpressionSession({ createTracker: () => Promise.reject(new TrackerError('model-missing', 'no model')) });
    live.push(failing);
    await expect(failing.setTracker(OPTIONS)).rejects.toThrow('no model');
    expect(failing.status).toBe('error');
    const superseded = failing.setTracker(OPTIONS);
    void failing.setTracker(null);
    expect(await superseded).toBeNull();
    expect(failing.status).toBe('loading');
  });

  it('drops a result of a tracker replaced while its frame was in flight', async () => {
    const { session, engines } = started();
    await session.setTracker(OPTIONS);
    const hold = engines[0].hold();
    session.setSource(fakeStream());
    await vi.waitFor(() => expect(engines[0].runs).toBe(1));
    const results: unknown[] = [];
    session.onResult = (r) => results.push(r);
    session.paused = true;
    void session.setTracker(OPTIONS);
    hold.resolve();
    await settle();
    expect(results).toEqual([]);
    expect(session.latest).toBeNull();
  });

  it('calibrates through the tracker, and refuses before there is one', async () => {
    const { session } = started();
    await expect(session.calibrateNeutral(10)).rejects.toMatchObject({ code: 'calibration-failed' });
    await session.setTracker(OPTIONS);
    session.setSource(fakeStream());
    await session.calibrateNeutral(0);
  });
});

describe('ExpressionSession: the loop', () => {
  it('hands every result to onResult and keeps the newest on latest', async () => {
    const { session } = started();
    const results: number[] = [];
    session.onResult = (r) => results.push(r.timestampMs);
    await session.setTracker(OPTIONS);
    session.setSource(fakeStream());
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(3));
    expect(session.latest?.timestampMs).toBe(results.at(-1));
    expect(session.frames).toBeGreaterThanOrEqual(results.length);
  });

  it('tracks nothing while paused or without a source', async () => {
    const { session, engines } = started();
    await session.setTracker(OPTIONS);
    session.setSource(fakeStream());
    await vi.waitFor(() => expect(session.latest).not.toBeNull());
    session.paused = true;
    expect(session.latest).toBeNull();
    await settle();
    const runs = engines[0].runs;
    await settle();
    expect(engines[0].runs).toBe(runs);
    session.paused = false;
    session.setSource(null);
    await settle();
    expect(engines[0].runs).toBe(runs);
  });

  it('waits for a video with a frame to read', async () => {
    const { session, engines } = started();
    await session.setTracker(OPTIONS);
    const video = { ...fakeVideo(), readyState: 1 } as HTMLVideoElement;
    session.setSource(video);
    await settle();
    expect(engines[0].runs).toBe(0);
    (video as { readyState: number }).readyState = 4;
    await vi.waitFor(() => expect(engines[0].runs).toBeGreaterThan(0));
  });

  it('tells of a failing frame once, not on every frame that fails the same way, and ignores ordinary ones', async () => {
    const { session, engines, changes } = started();
    const errors: string[] = [];
    session.onFrameError = (e) => errors.push(e.message);
    await session.setTracker(OPTIONS);
    const engine = engines[0];
    let failures = 0;
    const run = engine.run.bind(engine);
    engine.run = async () => {
      failures++;
      if (failures <= 5) throw new TrackerError('bad-frame', 'no face');
      if (failures <= 20) throw new Error('the worker failed');
      return run();
    };
    const before = changes();
    session.setSource(fakeStream());
    await vi.waitFor(() => expect(session.frames).toBeGreaterThan(0));
    expect(errors).toEqual(['the worker failed']);
    expect(changes() - before).toBe(1);
    expect(session.error?.message).toBe('the worker failed');
    expect(session.status).toBe('ready');
  });
});
