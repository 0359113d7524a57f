/**
 * three.js routes its own warnings through setConsoleFunction. One of them is not ours to fix:
 * @react-three/fiber 9 constructs a THREE.Clock for every canvas, which three r183+ reports as
 * deprecated on each page load. Only that exact message is dropped; everything else passes through.
 */
import { setConsoleFunction } from 'three';

const DEPENDENCY_DEPRECATIONS = ['THREE.Clock: This module has been deprecated. Please use THREE.Timer instead.'];

export function quietDependencyDeprecations(): void {
  setConsoleFunction((type: 'log' | 'warn' | 'error', message: string, ...params: unknown[]) => {
    if (type === 'warn' && DEPENDENCY_DEPRECATIONS.includes(message)) return;
    console[type](message, ...params);
  });
}
