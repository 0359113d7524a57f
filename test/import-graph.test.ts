/**
 * The layering in src/README.md, checked on the imports themselves: the library never imports the
 * app, and no two folders import each other (around any loop), so the library can be built, read
 * and changed without the app, and the app's layers (page → scene → state) stay one-way.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCycle, folderCycles, folderGraph, folderOf, importEdges, type ImportEdge } from './helpers/import-graph.js';

const SRC = resolve(import.meta.dirname, '../src');
const edges = importEdges(SRC);
const isApp = (file: string) => file.startsWith('app/');

describe('src/ import graph', () => {
  it('is read: known imports are found, the worker among them', () => {
    expect(edges).toContainEqual({ from: 'index.ts', to: 'embed/use-expression.ts' });
    expect(edges).toContainEqual({ from: 'tracker/index.ts', to: 'tracker/worker.ts' });
    expect(edges).toContainEqual({ from: 'tracker/index.ts', to: 'tracker/engine.ts' });
    expect(edges.some((e) => e.from === 'app/main.tsx')).toBe(true);
  });

  it('has no library file that imports the app', () => {
    const offenders = edges.filter((e) => !isApp(e.from) && isApp(e.to)).map((e) => `${e.from} imports ${e.to}`);
    expect(offenders).toEqual([]);
  });

  it('has no folder-level import cycle', () => {
    const graph = folderGraph(edges);
    expect(folderCycles(graph).map((group) => describeCycle(graph, group))).toEqual([]);
  });

  it('keeps the app in layers: scene and state never import the page, state never imports the scene', () => {
    const layer = (file: string) => (folderOf(file) === 'app' ? 'page' : folderOf(file) === 'app/scene' ? 'scene' : folderOf(file) === 'app/state' ? 'state' : null);
    const rank = { page: 2, scene: 1, state: 0 } as const;
    const upward = edges.filter((e) => {
      const a = layer(e.from), b = layer(e.to);
      return a !== null && b !== null && rank[b] > rank[a];
    });
    expect(upward.map((e) => `${e.from} imports ${e.to}`)).toEqual([]);
  });
});

describe('tools/ import graph', () => {
  // Folders of the pipeline (data, model, train, eval, report, cli, ...) are layers too: a loop
  // between them (cards in model/ importing train/ and eval/, a CLI inside mouth/) means nothing
  // below the CLIs can be read or tested on its own.
  it('has no folder-level import cycle', () => {
    const tools = importEdges(resolve(import.meta.dirname, '../tools'));
    expect(tools.some((e) => folderOf(e.from) === 'train' && folderOf(e.to) === 'model')).toBe(true);
    const graph = folderGraph(tools);
    expect(folderCycles(graph).map((group) => describeCycle(graph, group))).toEqual([]);
  });
});

describe('folderCycles', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to });

  it('finds a two-folder cycle and a longer loop, and ignores imports within a folder', () => {
    const graph = folderGraph([
      edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'a/z.ts'),
      edge('c/x.ts', 'd/x.ts'), edge('d/x.ts', 'e/x.ts'), edge('e/x.ts', 'c/y.ts'),
      edge('f/x.ts', 'f/y.ts'), edge('f/x.ts', 'a/x.ts'),
    ]);
    expect(folderCycles(graph)).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    expect(describeCycle(graph, ['a', 'b'])).toContain('a → b (a/x.ts imports b/y.ts)');
  });
});
