/**
 * The relative imports between the source files under a folder, and the folder-level graph they
 * make: enough to hold the layering rules (src/README.md) without a dependency-analysis package.
 * Imports are read with a regular expression, not a parser: `from '…'`, `import('…')`, side-effect
 * imports and `new URL('…', import.meta.url)` (how the tracker's worker is loaded).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

export interface ImportEdge {
  /** importing file and imported file, '/'-separated and relative to the scanned root */
  from: string;
  to: string;
}

const SOURCE = /\.(ts|tsx|mts)$/;
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new\s+URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Comments can quote import lines; strings are left alone (a URL's '//' is not a comment). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The file a relative specifier names, or null when it is not a source file under the root. */
function resolveSpecifier(root: string, fromFile: string, specifier: string): string | null {
  const bare = specifier.replace(/\?.*$/, '');
  const base = join(dirname(fromFile), bare);
  const stem = base.replace(/\.(js|jsx|mjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (SOURCE.test(candidate) && existsSync(candidate) && statSync(candidate).isFile()) {
      const rel = relative(root, candidate);
      return rel.startsWith('..') ? null : rel.split(sep).join('/');
    }
  }
  return null;
}

export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const from = relative(root, file).split(sep).join('/');
    for (const match of withoutComments(readFileSync(file, 'utf8')).matchAll(SPECIFIER)) {
      const to = resolveSpecifier(root, file, match[2]);
      if (to && to !== from) edges.push({ from, to });
    }
  }
  return edges;
}

/** A file's folder relative to the root ('.' for files at the top). */
export const folderOf = (file: string): string => posix.dirname(file);

/** Folder → folders it imports from (itself left out), with one file-level edge as the example for each. */
export function folderGraph(edges: ImportEdge[]): Map<string, Map<string, ImportEdge>> {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    const a = folderOf(edge.from), b = folderOf(edge.to);
    if (!graph.has(b)) graph.set(b, new Map());
    const out = graph.get(a) ?? new Map<string, ImportEdge>();
    graph.set(a, out);
    if (a !== b && !out.has(b)) out.set(b, edge);
  }
  return graph;
}

/** Groups of folders that import each other, directly or around a loop (Tarjan's strongly connected components). */
export function folderCycles(graph: Map<string, Map<string, ImportEdge>>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) cycles.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** One cycle as readable file-level edges: a → b (file → file) for each folder edge inside the group. */
export function describeCycle(graph: Map<string, Map<string, ImportEdge>>, group: string[]): string {
  const lines: string[] = [];
  for (const a of group) {
    for (const [b, edge] of graph.get(a) ?? []) if (group.includes(b)) lines.push(`  ${a} → ${b} (${edge.from} imports ${edge.to})`);
  }
  return `${group.join(' ↔ ')}\n${lines.join('\n')}`;
}

/** Prints the folder cycles under a folder: `npx tsx test/helpers/import-graph.ts tools`. */
if (process.argv[1] && /import-graph\.ts$/.test(process.argv[1]) && process.argv[2]) {
  const root = join(process.cwd(), process.argv[2]);
  const graph = folderGraph(importEdges(root));
  const cycles = folderCycles(graph);
  console.log(cycles.length === 0 ? `no folder cycles under ${process.argv[2]}` : cycles.map((c) => describeCycle(graph, c)).join('\n\n'));
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
