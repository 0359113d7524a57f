/**
 * Short questionnaires (sliders and Likert items) as data, and their validation. The panel draws
 * them; the recorder stores a response only after validateAnswers() finds nothing wrong.
 */
import type { LikertItem, Questionnaire, QuestionItem, SliderItem } from './types.js';

/** Self-Assessment-Manikin style valence and arousal, 1..9, continuous. */
export const VALENCE_AROUSAL: Questionnaire = {
  id: 'valence-arousal',
  title: 'How do you feel right now?',
  items: [
    { kind: 'slider', id: 'valence', prompt: 'Valence', min: 1, max: 9, minLabel: 'unpleasant', maxLabel: 'pleasant' },
    { kind: 'slider', id: 'arousal', prompt: 'Arousal', min: 1, max: 9, minLabel: 'calm', maxLabel: 'excited' },
  ],
};

/** A one-item 7-point Likert questionnaire, e.g. likert('comfort', 'The headset was comfortable'). */
export function likertQuestionnaire(id: string, prompt: string, points = 7, anchors: string[] = ['strongly disagree', 'strongly agree']): Questionnaire {
  return { id, title: prompt, items: [{ kind: 'likert', id, prompt, points, anchors }] };
}

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

function itemProblems(item: QuestionItem, where: string): string[] {
  const problems: string[] = [];
  if (typeof item.id !== 'string' || !ID_PATTERN.test(item.id)) problems.push(`${where}: id must be 1-64 characters of A-Z a-z 0-9 _ . -`);
  if (typeof item.prompt !== 'string' || item.prompt.trim() === '') problems.push(`${where}: prompt is empty`);
  if (item.kind === 'slider') {
    const { min, max, step } = item as SliderItem;
    if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) problems.push(`${where}: slider needs finite min < max, got ${min}..${max}`);
    if (step !== undefined && !(Number.isFinite(step) && step > 0)) problems.push(`${where}: step must be a positive number, got ${step}`);
  } else if (item.kind === 'likert') {
    const { points, anchors } = item as LikertItem;
    if (!Number.isInteger(points) || points < 2 || points > 11) problems.push(`${where}: likert points must be an integer 2..11, got ${points}`);
    if (anchors !== undefined && (!Array.isArray(anchors) || (anchors.length !== 2 && anchors.length !== points) || anchors.some((a) => typeof a !== 'string'))) {
      problems.push(`${where}: anchors must be 2 labels (the ends) or one per point`);
    }
  } else {
    problems.push(`${where}: unknown item kind ${JSON.stringify((item as { kind?: unknown }).kind)}`);
  }
  return problems;
}

/** Problems with a questionnaire definition; empty when it is usable. */
export function questionnaireProblems(q: Questionnaire): string[] {
  const problems: string[] = [];
  if (!q || typeof q !== 'object') return ['the questionnaire is not an object'];
  if (typeof q.id !== 'string' || !ID_PATTERN.test(q.id)) problems.push('questionnaire id must be 1-64 characters of A-Z a-z 0-9 _ . -');
  if (!Array.isArray(q.items) || q.items.length === 0) return [...problems, 'a questionnaire needs at least one item'];
  const seen = new Set<string>();
  q.items.forEach((item, i) => {
    problems.push(...itemProblems(item, `item ${i} (${item?.id})`));
    if (seen.has(item.id)) problems.push(`item ${i}: duplicate id ${item.id}`);
    seen.add(item.id);
  });
  return problems;
}

/** Whether `value` is on a slider's step grid (with float tolerance: 0.1 + 0.2 must pass). */
function onStep(value: number, min: number, step: number): boolean {
  const k = (value - min) / step;
  return Math.abs(k - Math.round(k)) < 1e-9 * Math.max(1, Math.abs(k));
}

/** Problems with one set of answers; empty when every item is answered with an allowed value and nothing else is. */
export function answerProblems(q: Questionnaire, answers: Record<string, unknown>): string[] {
  if (!answers || typeof answers !== 'object') return ['answers must be an object of item id → number'];
  const problems: string[] = [];
  const ids = new Set(q.items.map((i) => i.id));
  for (const key of Object.keys(answers)) if (!ids.has(key)) problems.push(`${key}: not an item of questionnaire ${q.id}`);
  for (const item of q.items) {
    const value = answers[item.id];
    if (value === undefined) {
      problems.push(`${item.id}: not answered`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`${item.id}: answer must be a finite number, got ${JSON.stringify(value)}`);
      continue;
    }
    if (item.kind === 'slider') {
      if (value < item.min || value > item.max) problems.push(`${item.id}: ${value} is outside ${item.min}..${item.max}`);
      else if (item.step !== undefined && !onStep(value, item.min, item.step)) problems.push(`${item.id}: ${value} is not on the step ${item.step} from ${item.min}`);
    } else if (!Number.isInteger(value) || value < 1 || value > item.points) {
      problems.push(`${item.id}: a ${item.points}-point Likert answer must be an integer 1..${item.points}, got ${value}`);
    }
  }
  return problems;
}
