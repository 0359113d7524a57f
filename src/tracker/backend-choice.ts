/**
 * Which tfjs backend the tracker runs on when asked for 'auto' (the app's default). WebGL on a real
 * GPU is fastest. A GPU emulated on the CPU (Chromium's SwiftShader on a machine without one,
 * Mesa's llvmpipe) is another matter: WebGL inference then runs in the same software process that
 * draws the page, and each tracked frame stalls the rendering (npm run bench:scene measured the
 * frame interval 1.29x longer with tracking on). There the wasm backend, on the worker's own CPU
 * thread, leaves the GPU process to the scene.
 */
export type TrackerBackend = 'webgl' | 'wasm' | 'cpu';
export type BackendRequest = TrackerBackend | 'auto';

export interface BackendChoice {
  backend: TrackerBackend;
  /** why, for a notice: "asked for", "software GPU (…)", "no WebGL", "GPU (…)" */
  reason: string;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software rasteri[sz]er|microsoft basic render/i;

export const isSoftwareRenderer = (renderer: string) => SOFTWARE_RENDERER.test(renderer);

/** `renderer`: the WebGL renderer string (null: no WebGL context could be made). */
export function chooseBackend(request: BackendRequest, renderer: string | null): BackendChoice {
  if (request !== 'auto') return { backend: request, reason: 'asked for' };
  if (renderer === null) return { backend: 'wasm', reason: 'no WebGL here' };
  if (isSoftwareRenderer(renderer)) return { backend: 'wasm', reason: `software GPU (${renderer}): the CPU runs inference faster, and rendering keeps the GPU` };
  return { backend: 'webgl', reason: `GPU (${renderer})` };
}

/** The WebGL renderer's name (unmasked where the browser allows), or null without WebGL. Main thread only. */
export function webglRenderer(): string | null {
  if (typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  // A probe only: give the context back now rather than when the canvas is collected.
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return renderer;
}
