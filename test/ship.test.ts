import { describe, expect, it } from 'vitest';
import { CONCAT_MARGIN, HEADSET_BUDGET, pickShipped } from '../tools/train/ship.js';

const cost = { bytes: 3.5e6, flops: 236e6 };

describe('the shipped headset model', () => {
  it('is the best single student unless the concat beats it by the margin', () => {
    const singles = [{ stage: 'baseline', accuracy: 0.74, ...cost }, { stage: 'kd', accuracy: 0.76, ...cost }, { stage: 'triplet', accuracy: 0.75, ...cost }] as const;
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.765, ...cost }]).stage).toBe('kd');
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.76 + CONCAT_MARGIN, ...cost }]).stage).toBe('concat');
    expect(pickShipped([...singles]).stage).toBe('kd');
  });

  it('takes the concat when it is the only student, and refuses an empty list', () => {
    expect(pickShipped([{ stage: 'concat', accuracy: 0.5, ...cost }]).stage).toBe('concat');
    expect(() => pickShipped([])).toThrow(/no student/);
  });

  it('never ships a student over the headset budget, however accurate', () => {
    const kd = { stage: 'kd', accuracy: 0.8, ...cost } as const;
    // Two students of the teacher's network side by side: 472 MFLOPs.
    const concat = { stage: 'concat', accuracy: 0.9, bytes: 7e6, flops: 472e6 } as const;
    expect(pickShipped([kd, concat]).stage).toBe('kd');
    expect(pickShipped([kd, { ...concat, bytes: HEADSET_BUDGET.bytes, flops: HEADSET_BUDGET.flops }]).stage).toBe('concat');
    expect(() => pickShipped([concat])).toThrow(/no student fits a headset \(at most 5 MB and 300 MFLOPs\): concat 7.00 MB, 472 MFLOPs/);
  });
});
