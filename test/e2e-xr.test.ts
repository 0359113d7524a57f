/**
 * The immersive view in an emulated headset: iwer's Meta Quest 3 runtime is installed before the
 * app starts (?xr=emulate), the Enter VR button starts an immersive-vr session, and XR frames render
 * with the avatar and the panel in view while the tracker keeps running on the demo input.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newContext, sharedAppAndBrowser, REPO_ROOT, watchForeignRequests } from './helpers/e2e-app.js';

describe('immersive-vr session in an emulated Quest 3', () => {
  const shared = sharedAppAndBrowser();

  it('renders XR frames with the avatar and the panel while tracking runs', async () => {
    const context = await newContext(shared.browser, shared.app.baseUrl);
    const foreign = watchForeignRequests(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    // The emulated Quest 3's controllers: their profiles and models come from our own origin.
    const profileFiles: string[] = [];
    page.on('response', (r) => { if (r.url().includes('/xr-input-profiles/') && r.ok()) profileFiles.push(new URL(r.url()).pathname); });
    await page.goto('/?xr=emulate&input=demo');
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 240_000 });

    const enter = page.getByTestId('enter-vr');
    await enter.waitFor({ timeout: 30_000 });
    await enter.click();
    await page.waitForFunction(() => window.__halfface!.presenting && window.__halfface!.xrFrames > 0, undefined, { timeout: 60_000 });
    const atEntry = await page.evaluate(() => window.__halfface!);
    await page.waitForFunction(
      (n) => window.__halfface!.xrFrames > n.frames + 30 && window.__halfface!.trackedFrames > n.tracked + 3,
      { frames: atEntry.xrFrames, tracked: atEntry.trackedFrames },
      { timeout: 180_000 },
    );
    const during = await page.evaluate(() => window.__halfface!);
    mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: resolve(REPO_ROOT, 'test-results/e2e-xr.png') });
    await context.close();

    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(profileFiles).toEqual(expect.arrayContaining(['/xr-input-profiles/profilesList.json']));
    expect(profileFiles.some((p) => /\/xr-input-profiles\/[\w-]+\/profile\.json$/.test(p))).toBe(true);
    expect(profileFiles.some((p) => /\/xr-input-profiles\/[\w-]+\/(left|right)\.glb$/.test(p)), profileFiles.join(', ')).toBe(true);
    expect(during.presenting).toBe(true);
    expect(during.avatarInView).toBe(true);
    // A room with a mirror, and the mirror image at the viewer's eye height (the avatar's anchor is its eyes' level within a few cm).
    expect(during.roomShown).toBe(true);
    expect(Math.abs(during.avatarY - during.viewerY), `avatar ${during.avatarY} m, eyes ${during.viewerY} m`).toBeLessThan(0.05);
    expect(during.panelInView).toBe(true);
    expect(during.triangles).toBeGreaterThan(1000);
    expect(during.avatar.rendered).toBe('default');
    expect(during.latest).not.toBeNull();
    // The avatar's mesh weights are written in the XR frames too: the mapped shapes are present.
    expect(Object.keys(during.morph)).toEqual(expect.arrayContaining(['mouthSmileLeft', 'jawOpen', 'browInnerUp']));
    expect(Object.values(during.morph).every((w) => w >= 0 && w <= 1)).toBe(true);
    console.log(`[e2e-xr] ${during.xrFrames} XR frames, ${during.trackedFrames - atEntry.trackedFrames} frames tracked during the session`);
  });
});
