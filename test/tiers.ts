/**
 * The test tiers, by what a file needs beyond a clone and `npm install`:
 * - unit: nothing else (pure core, losses, statistics, loaders on committed fixtures, committed models);
 * - data: the FER+ folder (HALFFACE_DATA or ../shared/datasets/ferplus);
 * - browser: Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); some browser files need FER+ too.
 * A test file not listed below is a unit test; test/tiers.test.ts checks that no unit file reaches
 * for the data or a browser, so a new file lands in the wrong tier loudly rather than on a newcomer.
 * Plain data (no vitest import): vitest.config.ts reads it to build its projects.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveDataDir } from '../tools/data/ferplus.js';

export const TIERS = ['unit', 'data', 'browser'] as const;
export type Tier = (typeof TIERS)[number];

/**
 * Files that read FER+ images or labels, and nothing in a browser. The recorder, collection and
 * OSC tests are here because their expression stream is real Valid faces through the student
 * (test/helpers/tracked-stream.ts).
 */
export const DATA_FILES = [
  'augment', 'batch-order', 'class-balance-eval', 'collect-reliability', 'collect-server', 'compare-cli', 'core-preprocess', 'distillation',
  'ferplus-loader', 'fold', 'labels', 'mouth-eval', 'mouth-targets', 'occlusion', 'osc-bridge', 'pipeline-cli', 'report-charts', 'report-cli',
  'research-recorder', 'score-model', 'teacher-cache', 'trainer-accounting', 'training', 'unfold',
].map((name) => `test/${name}.test.ts`);

/** Files that launch Chromium or serve the app (e2e-https serves it over TLS to Node's client). */
export const BROWSER_FILES = [
  'app-build', 'demo-face', 'e2e-calibration', 'e2e-camera', 'e2e-camera-default', 'e2e-fallback', 'e2e-https',
  'e2e-layout', 'e2e-mouth', 'e2e-osc', 'e2e-research', 'e2e-xr', 'embed-example', 'embed-package', 'tracker-bad-input', 'tracker-parity',
].map((name) => `test/${name}.test.ts`);

/** Browser files that also feed FER+ faces to the page: left out when the data is missing. */
export const BROWSER_DATA_FILES = ['e2e-calibration', 'e2e-camera', 'tracker-bad-input', 'tracker-parity'].map((name) => `test/${name}.test.ts`);

export interface Availability {
  /** null when the tier can run, else why not (one line, with the fix). */
  data: string | null;
  browser: string | null;
}

export function availability(env: NodeJS.ProcessEnv = process.env): Availability {
  const labels = resolve(resolveDataDir(env.HALFFACE_DATA), 'FER2013Valid', 'label.csv');
  const chromium = env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return {
    data: existsSync(labels) ? null : `FER+ not found (${labels} is missing; set HALFFACE_DATA to the FER+ folder)`,
    browser: existsSync(chromium) ? null : `Chromium not found at ${chromium} (install chromium or set CHROMIUM_PATH)`,
  };
}

/**
 * Which tiers to run. `requested` is HALFFACE_TEST_TIERS: unset means every tier this machine can
 * run (the others reported as skipped); set, it names tiers that must run, and one that cannot is
 * an error rather than a silent skip (CI, `npm run test:data`).
 */
export function planTiers(requested: string | undefined, available: Availability): { run: Tier[]; skipped: string[] } {
  if (requested === undefined || requested.trim() === '') {
    const skipped: string[] = [];
    const run: Tier[] = ['unit'];
    if (available.data === null) run.push('data');
    else skipped.push(`data tier skipped: ${available.data}`);
    if (available.browser === null) {
      run.push('browser');
      if (available.data !== null) skipped.push(`browser tests that need FER+ skipped (${BROWSER_DATA_FILES.join(', ')})`);
    } else skipped.push(`browser tier skipped: ${available.browser}`);
    return { run, skipped };
  }
  const run: Tier[] = [];
  for (const name of requested.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(TIERS as readonly string[]).includes(name)) throw new Error(`HALFFACE_TEST_TIERS: unknown tier "${name}" (tiers: ${TIERS.join(', ')})`);
    const tier = name as Tier;
    const missing = tier === 'data' ? available.data : tier === 'browser' ? available.browser ?? available.data : null;
    if (missing !== null) throw new Error(`the ${tier} tier cannot run: ${missing}`);
    if (!run.includes(tier)) run.push(tier);
  }
  return { run, skipped: [] };
}
