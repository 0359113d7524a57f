/// <reference lib="webworker" />
/**
 * The tracker's worker: hosts an InferenceEngine off the render loop. There is no dispose request:
 * the tracker terminates the worker, and the engine's GPU memory goes with it.
 */
import { InferenceEngine } from './engine.js';
import type { Reply, Request } from './protocol.js';
import { TrackerError } from './types.js';

let engine: InferenceEngine | null = null;
const post = (reply: Reply) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply);

async function handle(request: Request): Promise<unknown> {
  switch (request.type) {
    case 'init':
      engine = await InferenceEngine.create(request.init, (stage) => post({ id: request.id, progress: stage }));
      return engine.stats().backend;
    case 'run': {
      try {
        return await engine!.run(request.frame);
      } finally {
        if ('close' in request.frame) request.frame.close();
      }
    }
    case 'recover':
      await engine!.recover();
      return null;
    case 'lose-context':
      return engine!.loseContext();
    case 'stats':
      return engine!.stats();
  }
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const request = event.data;
  let reply: Reply;
  try {
    if (!engine && request.type !== 'init') throw new TrackerError('disposed', 'the tracker worker holds no engine');
    reply = { id: request.id, ok: true, value: (await handle(request)) as never };
  } catch (e) {
    reply = { id: request.id, ok: false, code: e instanceof TrackerError ? e.code : null, message: e instanceof Error ? e.message : String(e) };
  }
  post(reply);
};
