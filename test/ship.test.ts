import { describe, expect, it } from 'vitest';
import { HEADSET_BUDGET, pickShipped, shipReason } from '../tools/train/ship.js';

const cost = { bytes: 3.5e6, flops: 236e6 };

describe('the shipped headset model', () => {
  it('is the most accurate student within the budget, the concat included', () => {
    const singles = [{ stage: 'baseline', accuracy: 0.74, ...cost }, { stage: 'kd', accuracy: 0.76, ...cost }, { stage: 'triplet', accuracy: 0.75, ...cost }] as const;
    expect(pickShipped([...singles]).stage).toBe('kd');
    // A cropped concat: two students on half the rows, about one uncropped student's cost.
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.765, bytes: 3.4e6, flops: 245e6 }]).stage).toBe('concat');
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.755, bytes: 3.4e6, flops: 245e6 }]).stage).toBe('kd');
  });

  it('takes the cheaper of two equally accurate students, and never the teacher', () => {
    const kd = { stage: 'kd', accuracy: 0.8, ...cost } as const;
    expect(pickShipped([kd, { stage: 'concat', accuracy: 0.8, bytes: 3.4e6, flops: 245e6 }]).stage).toBe('kd');
    expect(pickShipped([{ stage: 'teacher', accuracy: 0.9, ...cost }, kd]).stage).toBe('kd');
    expect(() => pickShipped([{ stage: 'teacher', accuracy: 0.9, ...cost }])).toThrow(/no student/);
    expect(() => pickShipped([])).toThrow(/no student/);
  });

  it('never ships a student over the headset budget, however accurate', () => {
    const kd = { stage: 'kd', accuracy: 0.8, ...cost } as const;
    // Two students of the teacher's network side by side, uncropped: 472 MFLOPs.
    const concat = { stage: 'concat', accuracy: 0.9, bytes: 7e6, flops: 472e6 } as const;
    expect(pickShipped([kd, concat]).stage).toBe('kd');
    expect(pickShipped([kd, { ...concat, bytes: HEADSET_BUDGET.bytes, flops: HEADSET_BUDGET.flops }]).stage).toBe('concat');
    expect(() => pickShipped([concat])).toThrow(/no student fits a headset \(at most 5 MB and 300 MFLOPs\): concat 7.00 MB, 472 MFLOPs/);
    expect(shipReason([kd, concat])).toBe("the most accurate on the lower half of those within the headset's budget (5 MB, 300 MFLOPs a frame): kd 80.00% (236 MFLOPs, 3.50 MB), concat 90.00% (472 MFLOPs, 7.00 MB, over the budget)");
  });
});
