/** The objective of each pipeline stage. */
import type { Stage } from './config.js';
import { classificationObjective, type ObjectiveFactory } from './trainer.js';

export function objectiveFor(stage: Stage): ObjectiveFactory {
  switch (stage) {
    case 'teacher':
    case 'baseline':
      return classificationObjective;
    default:
      throw new Error(`stage "${stage}" is not implemented yet`);
  }
}
