import { describe, expect, it } from 'vitest';
import { checkNeutral, STRONG_MEAN } from '../src/app/state/neutral-check.js';
import { EXPRESSIONS, type Expression } from '../src/core/labels.js';

function probs(p: Partial<Record<Expression, number>>): Record<Expression, number> {
  const rest = 1 - Object.values(p).reduce((a, b) => a + b, 0);
  const free = EXPRESSIONS.filter((e) => !(e in p));
  return Object.fromEntries(EXPRESSIONS.map((e) => [e, p[e] ?? rest / free.length])) as Record<Expression, number>;
}

describe('checkNeutral', () => {
  it('accepts a neutral face, and a resting face that reads partly sad (what calibration corrects)', () => {
    expect(checkNeutral(Array(10).fill(probs({ neutral: 0.8 }))).ok).toBe(true);
    const sadResting = checkNeutral(Array(10).fill(probs({ neutral: 0.3, sadness: 0.5 })));
    expect(sadResting).toMatchObject({ ok: true, dominant: 'sadness' });
  });

  it('refuses a smile, even a faint one that still beats neutral', () => {
    const v = checkNeutral(Array(10).fill(probs({ neutral: 0.3, happiness: 0.4 })));
    expect(v.ok).toBe(false);
    expect(v.dominant).toBe('happiness');
    expect(v.reason).toBe('the face read as happiness (40% on average), not neutral');
  });

  it('refuses a strong frown held on purpose', () => {
    expect(checkNeutral(Array(10).fill(probs({ neutral: 0.1, anger: STRONG_MEAN + 0.05 }))).ok).toBe(false);
  });

  it('judges the average over the recording, not one frame', () => {
    const mostlyNeutral = [...Array(8).fill(probs({ neutral: 0.8 })), ...Array(2).fill(probs({ happiness: 0.9 }))];
    expect(checkNeutral(mostlyNeutral).ok).toBe(true);
    const mostlySmiling = [...Array(3).fill(probs({ neutral: 0.8 })), ...Array(7).fill(probs({ happiness: 0.9 }))];
    expect(checkNeutral(mostlySmiling).ok).toBe(false);
  });

  it('refuses an empty recording with a reason', () => {
    expect(checkNeutral([])).toMatchObject({ ok: false, reason: 'no frames were tracked while calibrating' });
  });
});
