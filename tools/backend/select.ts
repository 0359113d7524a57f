/**
 * Picks the fastest TensorFlow.js backend that works here: tfjs-node-gpu (CUDA), then tfjs-node
 * (native TensorFlow), then our training-capable wasm backend, then the pure-JS cpu backend.
 * tfjs-node(-gpu) are optional dependencies: on machines where they cannot install they are
 * simply absent.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { cpus } from 'node:os';
import { useTrainingWasmBackend } from './wasm-node.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo { name: string; detail: string }

async function tryNative(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

export async function selectBackend(choice: string = 'auto', threads = 0): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`unknown backend "${choice}": expected one of ${BACKEND_CHOICES.join(', ')}`);
  }
  // PROD silences tfjs's "install tfjs-node" banner (we looked for it ourselves) and its debug checks.
  tf.env().set('PROD', true);
  const c = choice as BackendChoice;
  if (c === 'auto' || c === 'tensorflow-gpu') {
    if (await tryNative('@tensorflow/tfjs-node-gpu')) return { name: 'tensorflow-gpu', detail: '@tensorflow/tfjs-node-gpu (CUDA)' };
    if (c === 'tensorflow-gpu') throw new Error('@tensorflow/tfjs-node-gpu is not installed or failed to load');
  }
  if (c === 'auto' || c === 'tensorflow') {
    if (await tryNative('@tensorflow/tfjs-node')) return { name: 'tensorflow', detail: '@tensorflow/tfjs-node (native TensorFlow, CPU)' };
    if (c === 'tensorflow') throw new Error('@tensorflow/tfjs-node is not installed or failed to load');
  }
  if (c === 'auto' || c === 'wasm') {
    try {
      const n = await useTrainingWasmBackend(threads > 0 ? threads : cpus().length);
      return { name: 'wasm', detail: `@tensorflow/tfjs-backend-wasm (SIMD + XNNPACK, ${n} threads requested, training kernels added)` };
    } catch (e) {
      if (c === 'wasm') throw e;
    }
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', detail: '@tensorflow/tfjs cpu backend (pure JavaScript, slow)' };
}
