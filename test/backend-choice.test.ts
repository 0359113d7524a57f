/** Which tfjs backend 'auto' picks from the WebGL renderer's name, and how the app's panel says it. */
import { describe, expect, it } from 'vitest';
import { describeInference } from '../src/app/state/status.js';
import { chooseBackend, isSoftwareRenderer } from '../src/tracker/backend-choice.js';

// Renderer strings as browsers report them (Chromium headless, Mesa, a Quest, a desktop GPU).
const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const LLVMPIPE = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const QUEST = 'Adreno (TM) 740';
const DESKTOP = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)';

describe('backend choice', () => {
  it('recognises GPUs emulated on the CPU, and only those', () => {
    expect([SWIFTSHADER, LLVMPIPE, 'Google SwiftShader', 'Microsoft Basic Render Driver'].every(isSoftwareRenderer)).toBe(true);
    expect([QUEST, DESKTOP, 'Apple M2', 'Mali-G78'].some(isSoftwareRenderer)).toBe(false);
  });

  it("'auto' takes WebGL on a GPU, wasm on a software one or without WebGL; an explicit backend is kept", () => {
    expect(chooseBackend('auto', QUEST)).toEqual({ backend: 'webgl', reason: `GPU (${QUEST})` });
    expect(chooseBackend('auto', SWIFTSHADER).backend).toBe('wasm');
    expect(chooseBackend('auto', SWIFTSHADER).reason).toMatch(/^software GPU \(ANGLE .*SwiftShader/);
    expect(chooseBackend('auto', LLVMPIPE).backend).toBe('wasm');
    expect(chooseBackend('auto', null)).toEqual({ backend: 'wasm', reason: 'no WebGL here' });
    for (const backend of ['webgl', 'wasm', 'cpu'] as const) {
      expect(chooseBackend(backend, SWIFTSHADER)).toEqual({ backend, reason: 'asked for' });
    }
  });

  it('the panel says where inference runs and on what', () => {
    const ready = { trackerStatus: 'ready' as const, trackerInWorker: true, trackerFallback: null };
    expect(describeInference({ ...ready, trackerBackend: chooseBackend('auto', LLVMPIPE) }))
      .toBe(`inference: in a worker (off the frame loop), wasm (software GPU (${LLVMPIPE}): the CPU runs inference faster, and rendering keeps the GPU)`);
    expect(describeInference({ ...ready, trackerInWorker: false, trackerFallback: 'turned off (worker: false)', trackerBackend: chooseBackend('webgl', null) }))
      .toBe('inference: on the main thread (worker: turned off (worker: false)), webgl (asked for)');
    expect(describeInference({ ...ready, trackerStatus: 'loading', trackerBackend: null })).toBe('inference: not running');
  });
});
