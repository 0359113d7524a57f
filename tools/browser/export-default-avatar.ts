/**
 * npx tsx tools/browser/export-default-avatar.ts [out.glb]
 * Writes the built-in head (src/avatar/default-avatar.ts) as a GLB with its ARKit-named morph
 * targets (default assets/avatars/halfface-head.glb): a file to try ?avatar= and avatar drops with,
 * and a template for rigging one's own. Exported in headless Chromium by three's GLTFExporter.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, startHarness } from './harness.js';

const out = resolve(process.argv[2] ?? resolve(REPO_ROOT, 'assets/avatars/halfface-head.glb'));
const harness = await startHarness();
try {
  const { page } = await harness.openPage();
  // A string: the page module is loaded by the page's Vite server, not by this Node process.
  const base64 = await page.evaluate("import('/tools/browser/export-avatar-page.ts').then((m) => m.exportDefaultAvatar())") as string;
  const bytes = Buffer.from(base64, 'base64');
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${(bytes.length / 1024).toFixed(0)} KiB)`);
} finally {
  await harness.close();
}
