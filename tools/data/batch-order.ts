/**
 * The order in which an epoch's training images are cut into batches.
 *
 * `shuffled`: a plain seeded permutation.
 * `stratified`: for the triplet stage, whose batch-hard mining needs, for every anchor, another face
 * of its class (a positive besides its own face through the teacher) and a face of another class.
 * Each class's faces are shuffled and paired; the pairs of each class are spread evenly over the
 * epoch (pair j of a class with P pairs sits at (j + offset) / P) and the pairs never straddle a
 * batch, so every face arrives with a same-class partner and every batch carries the training set's
 * class mix. Rare classes are not oversampled: each face is still seen once an epoch, so the model
 * learns the class prior that FER+'s validation and test splits share (oversampling disgust and
 * contempt, 1% of the faces, would trade majority accuracy for them).
 */
import { seededRandom, shuffledIndices, shuffleInPlace } from './random.js';
import { parseChoice } from '../../src/core/parse-choice.js';

export const BATCH_ORDERS = ['shuffled', 'stratified'] as const;
export type BatchOrder = (typeof BATCH_ORDERS)[number];

export function parseBatchOrder(value: string): BatchOrder {
  return parseChoice('batch order', BATCH_ORDERS, value);
}

/** A permutation of 0..labels.length-1; the trainer cuts it into consecutive batches of batchSize. */
export function epochOrder(order: BatchOrder, labels: Int32Array, batchSize: number, seed: number): Int32Array {
  if (order === 'shuffled') return shuffledIndices(labels.length, seed);
  if (batchSize % 2 !== 0) throw new Error(`stratified batches hold same-class pairs: the batch size must be even, not ${batchSize}`);
  return stratifiedOrder(labels, seed);
}

function stratifiedOrder(labels: Int32Array, seed: number): Int32Array {
  const random = seededRandom(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const members = byClass.get(label);
    if (members) members.push(i); else byClass.set(label, [i]);
  });
  const pairs: { position: number; tieBreak: number; faces: [number, number] }[] = [];
  const unpaired: number[] = [];
  for (const members of byClass.values()) {
    shuffleInPlace(members, random);
    const count = Math.floor(members.length / 2);
    const offset = random();
    for (let j = 0; j < count; j++) {
      pairs.push({ position: (j + offset) / count, tieBreak: random(), faces: [members[2 * j], members[2 * j + 1]] });
    }
    if (members.length % 2 === 1) unpaired.push(members[members.length - 1]);
  }
  pairs.sort((a, b) => a.position - b.position || a.tieBreak - b.tieBreak);
  // The odd faces go last, where the trainer's whole batches usually end before them: no pair is
  // shifted off its even position, and a dropped face is seen in the next epoch's order.
  return Int32Array.from([...pairs.flatMap((p) => p.faces), ...shuffleInPlace(unpaired, random)]);
}
