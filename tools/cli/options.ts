/**
 * Command-line options that several CLIs share, declared once so their names, help and defaults
 * cannot drift apart.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { LABEL_MODES } from '../../src/core/labels.js';
import { SPLITS } from '../data/ferplus.js';
import { parseFlagValue, type TrainFlag } from '../train/flags.js';

export function addDataOption(program: Command): Command {
  return program.option('--data <dir>', 'FER+ folder (default: $HALFFACE_DATA, else shared/datasets/ferplus beside the repo or a parent)');
}

/** Which images a model is scored on: the data folder, split, occlusion and label protocol. */
export function addScoringOptions(program: Command): Command {
  return addDataOption(program)
    .option('--split <name>', SPLITS.join(' | '), 'FER2013Valid')
    .option('--occlusion <mode>', 'none | lower | upper', 'lower')
    .option('--label-mode <mode>', LABEL_MODES.join(' | '), 'majority');
}

/** --balance: how much of the training class prior to divide out (tools/model/class-balance.ts). */
export function addBalanceOption(program: Command, what: string): Command {
  return program.option('--balance <tau>', `${what}: divide out the training class prior to this power, in the last layer (0: as trained; 1: a uniform prior; between: rarer expressions answered more often, at some accuracy; below 0: the prior put back, for a model trained with --balance-loss)`, '0');
}

/** A flag parser for counts: `--threads two` is refused by name, not turned into NaN. */
function wholeNumber(flag: string): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`${flag}: "${raw}" is not a whole number ≥ 0`);
    return Number(raw);
  };
}

export function addBackendOptions(program: Command, { threads }: { threads: boolean }): Command {
  program.option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto');
  return threads ? program.option('--threads <n>', 'wasm threads (0 = one per core)', wholeNumber('--threads')) : program;
}

/**
 * Training settings flags (tools/train/flags.ts), each checked by its config key's check as it is
 * parsed, so a bad value stops here, by name. The text is kept: applyTrainFlags turns it into the
 * config value.
 */
export function addTrainFlags(program: Command, entries: readonly TrainFlag[], helpSuffix = ''): Command {
  for (const entry of entries) {
    program.option(`${entry.flag} ${entry.arg}`, entry.help + helpSuffix, (raw: string) => {
      try {
        parseFlagValue(entry, raw);
        return raw;
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    });
  }
  return program;
}
