import { describe, expect, it } from 'vitest';
import { CONCAT_MARGIN, pickShipped } from '../tools/train/ship.js';

describe('the shipped headset model', () => {
  it('is the best single student unless the concat beats it by the margin', () => {
    const singles = [{ stage: 'baseline', accuracy: 0.74 }, { stage: 'kd', accuracy: 0.76 }, { stage: 'triplet', accuracy: 0.75 }] as const;
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.765 }]).stage).toBe('kd');
    expect(pickShipped([...singles, { stage: 'concat', accuracy: 0.76 + CONCAT_MARGIN }]).stage).toBe('concat');
    expect(pickShipped([...singles]).stage).toBe('kd');
  });

  it('takes the concat when it is the only student, and refuses an empty list', () => {
    expect(pickShipped([{ stage: 'concat', accuracy: 0.5 }]).stage).toBe('concat');
    expect(() => pickShipped([])).toThrow(/no student/);
  });
});
