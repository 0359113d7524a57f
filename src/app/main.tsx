/**
 * Entry point. URL parameters:
 *   ?avatar=URL      load a VRM or glTF avatar (ARKit-named morph targets) instead of the default head
 *   ?input=demo      skip the camera and use the built-in demo face
 *   ?model=URL       another model.json (default: /models/halfface/model.json)
 *   ?xr=emulate      install the iwer WebXR emulator (Meta Quest 3) before the app starts: for tests
 *                    and for trying the immersive view without a headset
 *   ?worker=0        run inference on the main thread
 *   ?backend=NAME    tfjs backend: auto (default: WebGL on a GPU, wasm on a software-emulated one), webgl, wasm
 *   ?participant=ID&condition=NAME  research session defaults (editable on the page)
 *   ?collect=URL     a collection server (npm run collect) to upload sessions to, after its token is entered
 *   ?osc[=ws://…]    send the blendshapes to the OSC bridge (npm run osc-bridge; default ws://127.0.0.1:9010)
 */
import { createXRStore } from '@react-three/xr';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { DEFAULT_OSC_BRIDGE_URL } from '../bridge/osc-bridge-client.js';
import { AppController } from './state/controller.js';
import type { BackendRequest } from '../tracker/index.js';
import { parseChoice } from '../core/parse-choice.js';
import { installDebugSnapshot } from './debug.js';
import { ScenePort } from './scene/probe.js';
import { quietDependencyDeprecations } from './three-console.js';

const BACKENDS: readonly BackendRequest[] = ['auto', 'webgl', 'wasm', 'cpu'];

async function main() {
  quietDependencyDeprecations();
  const params = new URLSearchParams(location.search);
  if (params.get('xr') === 'emulate') {
    const { XRDevice, metaQuest3 } = await import('iwer');
    // Forced: Chromium exposes a native navigator.xr even where no headset is attached.
    new XRDevice(metaQuest3).installRuntime({ forceInstall: true });
  }
  const controller = new AppController({
    modelUrl: params.get('model') ?? undefined,
    input: params.get('input') === 'demo' ? 'demo' : 'camera',
    worker: params.get('worker') !== '0',
    backend: parseChoice('?backend', BACKENDS, params.get('backend') ?? 'auto'),
    participantId: params.get('participant') ?? undefined,
    condition: params.get('condition') ?? undefined,
    collect: params.get('collect'),
  });
  const port = new ScenePort();
  // Emulation only when asked for (?xr=emulate), never silently on localhost.
  // Controller and hand models from our own origin (vite.config.ts serves them), not @react-three/xr's
  // default CDN: nothing is fetched from third-party hosts, and XR works offline.
  const xrStore = createXRStore({ emulate: false, offerSession: false, baseAssetPath: new URL('/xr-input-profiles/', location.href).href });
  if (params.has('osc')) controller.setOsc(params.get('osc') || DEFAULT_OSC_BRIDGE_URL);
  const avatar = params.get('avatar');
  if (avatar) controller.loadAvatar(avatar, avatar.split('/').pop() || avatar);
  installDebugSnapshot(controller, port);
  if (params.has('bench')) {
    Object.assign(window, { __halffaceBench: { setTracking: (on: boolean) => controller.setTrackingEnabled(on), useCamera: () => controller.useCamera(), port } });
  }

  navigator.xr?.isSessionSupported('immersive-vr').then(
    (supported) => controller.store.setState({ xrSupported: supported }),
    () => controller.store.setState({ xrSupported: false }),
  );

  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App controller={controller} xrStore={xrStore} port={port} />
    </StrictMode>,
  );
  await controller.start();
}

main().catch((e) => {
  // As text: the message can quote a URL parameter (?model=…), which must never become markup.
  const fatal = document.createElement('pre');
  fatal.className = 'fatal';
  fatal.textContent = `halfface could not start: ${String((e as Error)?.message ?? e)}`;
  document.body.append(fatal);
  console.error(e);
});
