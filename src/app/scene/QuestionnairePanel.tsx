/**
 * The end-of-session questionnaire in the headset: one row of answer buttons per item (a slider's
 * values, or a Likert item's points), the chosen one highlighted, then Submit or Skip. Pressed with
 * controller rays, hands or the mouse, like the panel's buttons; the page shows the same form.
 */
import { useStore } from '../state/store.js';
import type { AppController } from '../state/controller.js';
import type { QuestionItem } from '../../research/index.js';
import { PanelButton } from './PanelButton.js';

/** At most this many buttons per row; a finer slider is offered at evenly spread values. */
const MAX_CHOICES = 11;
const ROW_M = 0.075;
const ROW_WIDTH_M = 0.54;

export function answerChoices(item: QuestionItem): number[] {
  if (item.kind === 'likert') return Array.from({ length: item.points }, (_, i) => i + 1);
  const step = item.step ?? 1;
  const count = Math.floor((item.max - item.min) / step + 1e-9) + 1;
  if (count <= MAX_CHOICES) return Array.from({ length: count }, (_, i) => item.min + i * step);
  // Evenly spread values that stay on the slider's step grid.
  return Array.from({ length: MAX_CHOICES }, (_, i) => item.min + Math.round((i * (count - 1)) / (MAX_CHOICES - 1)) * step);
}

export function QuestionnairePanel({ controller, position }: { controller: AppController; position: [number, number, number] }) {
  const study = useStore(controller.store, (s) => s.study);
  const q = study.questionnaire;
  if (!q) return null;
  return (
    <group position={position} name="questionnaire">
      <PanelButton name="q-title" text={q.title ?? q.id} active={false} size={[ROW_WIDTH_M, 0.05]} position={[0, 0, 0]} onPress={() => {}} />
      {q.items.map((item, row) => {
        const choices = answerChoices(item);
        const w = ROW_WIDTH_M / choices.length;
        const y = -(row + 1) * ROW_M - 0.02;
        return (
          <group key={item.id} position={[0, y, 0]}>
            <PanelButton name={`q-${item.id}-label`} text={item.prompt} active={false} size={[ROW_WIDTH_M, 0.025]} position={[0, 0.03, 0]} onPress={() => {}} />
            {choices.map((value, i) => (
              <PanelButton key={value} name={`q-${item.id}-${value}`} text={String(value)} active={study.answers[item.id] === value}
                size={[w * 0.9, 0.04]} position={[-ROW_WIDTH_M / 2 + w * (i + 0.5), 0, 0]} onPress={() => controller.study.setAnswer(item.id, value)} />
            ))}
          </group>
        );
      })}
      <PanelButton name="q-submit" text="Submit" active={false} size={[0.2, 0.05]} position={[-0.12, -(q.items.length + 1) * ROW_M - 0.02, 0]} onPress={() => controller.study.submitQuestionnaire()} />
      <PanelButton name="q-skip" text="Skip" active={false} size={[0.2, 0.05]} position={[0.12, -(q.items.length + 1) * ROW_M - 0.02, 0]} onPress={() => controller.study.skipQuestionnaire()} />
    </group>
  );
}
