import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { availability, BROWSER_DATA_FILES, BROWSER_FILES, DATA_FILES, planTiers, type Tier } from './test/tiers.js';

// Tiers as vitest projects (test/tiers.ts says which file needs what). `npm test` runs every tier
// this machine can and prints the ones it skips; HALFFACE_TEST_TIERS=unit,data,... makes tiers
// mandatory (npm run test:unit|test:data|test:browser, .ci/run).
const available = availability();
const { run, skipped } = planTiers(process.env.HALFFACE_TEST_TIERS, available);
// Vitest evaluates this file again for each project that extends it: say it once.
if (!process.env.HALFFACE_TIERS_NOTICE) {
  for (const line of skipped) console.warn(`[halfface tests] ${line}`);
  process.env.HALFFACE_TIERS_NOTICE = 'shown';
}

function project(tier: Tier): TestProjectInlineConfiguration {
  const include = tier === 'unit' ? ['test/**/*.test.ts'] : tier === 'data' ? DATA_FILES : BROWSER_FILES;
  const exclude = tier === 'unit' ? [...DATA_FILES, ...BROWSER_FILES]
    : tier === 'browser' && available.data !== null ? BROWSER_DATA_FILES : [];
  // HALFFACE_TEST_TIER lets test/helpers/data.ts refuse to load FER+ inside a unit test.
  return { extends: true, test: { name: tier, include, exclude: [...configDefaults.exclude, ...exclude], env: { HALFFACE_TEST_TIER: tier } } };
}

// Training tests share 2 cores with whatever else runs: generous timeouts, files one at a time.
export default defineConfig({
  test: {
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    projects: run.map(project),
  },
});
