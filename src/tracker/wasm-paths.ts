/**
 * tfjs-backend-wasm's binaries, served by the app's own bundler (Vite `?url`), so that the wasm
 * backend works offline and without a CDN. The tracker uses them when backend 'wasm' (or 'auto' on a
 * software GPU) is given no wasmPaths.
 */
import plainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type WasmBinary = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';
/** A folder URL holding the three binaries, or a URL per binary. */
export type WasmPaths = string | Partial<Record<WasmBinary, string>>;

export const DEFAULT_WASM_PATHS: Partial<Record<WasmBinary, string>> = {
  'tfjs-backend-wasm.wasm': plainUrl,
  'tfjs-backend-wasm-simd.wasm': simdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdUrl,
};
