/**
 * Geometry whose morph targets are generated, not sculpted: a parametric shape gives vertex
 * positions for a parameter set; each ARKit blendshape is the difference between the shape with
 * its parameters set and the rest shape. Positions are linear in the parameters wherever the shapes
 * below combine, so blending morph targets gives what the parametric shape would.
 */
import * as THREE from 'three';

export type Params = Record<string, number>;
export type ShapeFn = (params: Params) => number[];

export interface MorphShapeSpec {
  /** positions for a parameter set (unset parameters are 0): x,y,z per vertex */
  positions: ShapeFn;
  index: number[];
  /** index ranges drawn with each material */
  groups?: { start: number; count: number; materialIndex: number }[];
  /** ARKit name → the parameters it sets */
  targets: Record<string, Params>;
}

export function buildMorphGeometry(spec: MorphShapeSpec): THREE.BufferGeometry {
  const base = spec.positions({});
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(base, 3));
  geometry.setIndex(spec.index);
  for (const group of spec.groups ?? []) geometry.addGroup(group.start, group.count, group.materialIndex);
  geometry.computeVertexNormals();
  const names = Object.keys(spec.targets);
  geometry.morphAttributes.position = names.map((name) => {
    const moved = spec.positions(spec.targets[name]);
    if (moved.length !== base.length) throw new Error(`morph target ${name}: ${moved.length / 3} vertices, rest shape has ${base.length / 3}`);
    const attribute = new THREE.Float32BufferAttribute(moved.map((v, i) => v - base[i]), 3);
    attribute.name = name;
    return attribute;
  });
  geometry.morphTargetsRelative = true;
  return geometry;
}

/** Triangles of a strip between two rows of vertices (a[i], b[i]), i = 0..n-1. */
export function stripIndex(a: number[], b: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < a.length; i++) out.push(a[i], b[i], a[i + 1], a[i + 1], b[i], b[i + 1]);
  return out;
}

/** Triangles of a fan: centre vertex c and a closed ring. */
export function fanIndex(c: number, ring: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < ring.length; i++) out.push(c, ring[i], ring[(i + 1) % ring.length]);
  return out;
}
