/**
 * A research session run from the app, as a researcher would: participant and condition from the
 * URL, Record, a marker from the page button and one from the keyboard, Stop, the questionnaire,
 * the JSON download, and the same session uploaded to a real collection server (tools/collect, in
 * process, on 127.0.0.1 with a SQLite file) once the study token is entered.
 */
import type { Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFromJson } from '../src/research/index.js';
import { createCollectServer, listen, parseTokenFile } from '../tools/collect/server.js';
import { StudyStore } from '../tools/collect/store.js';
import { launchChromium, newContext, startAppServer, watchForeignRequests, type AppServer } from './helpers/e2e-app.js';

const TOKEN = 'e2e-study-token-0123456789abcdef';

describe('research session from the app', () => {
  let app: AppServer;
  let browser: Browser;
  let dir: string;
  let store: StudyStore;
  let server: Server;
  let collectUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halfface-e2e-collect-'));
    store = new StudyStore(join(dir, 'study.sqlite'));
    server = createCollectServer({ store, tokens: parseTokenFile(`e2e ${TOKEN}`) });
    collectUrl = await listen(server, '127.0.0.1', 0);
    app = await startAppServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records, marks, asks the questionnaire, downloads JSON and uploads the same session', async () => {
    const context = await newContext(browser, app.baseUrl);
    const foreign = watchForeignRequests(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`/?input=demo&participant=P07&condition=VR-first&collect=${encodeURIComponent(collectUrl)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await page.getByLabel('study token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use' }).click();
    await page.waitForFunction(() => window.__halfface?.study.upload === 'idle', undefined, { timeout: 30_000 }).catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.__halfface?.study))}`); });
    await page.waitForFunction(() => window.__halfface?.trackerStatus === 'ready' && window.__halfface.trackedFrames > 0, undefined, { timeout: 240_000 });

    await page.getByRole('button', { name: '● Record' }).click();
    await page.waitForFunction(() => window.__halfface!.study.phase === 'recording' && window.__halfface!.study.samples >= 3, undefined, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Mark' }).click();
    await page.locator('body').click({ position: { x: 640, y: 700 } });
    await page.keyboard.press('m');
    await page.waitForFunction(() => window.__halfface!.study.markers === 2);
    await page.getByRole('button', { name: '■ Stop' }).click();

    const form = page.getByTestId('questionnaire');
    await form.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: 'test-results/e2e-research-questionnaire.png' });
    await form.getByLabel('Valence').fill('7');
    await form.getByLabel('Arousal').fill('3');
    await form.getByRole('button', { name: 'Submit answers' }).click();
    await page.waitForFunction(() => window.__halfface!.study.phase === 'done');
    expect(await page.getByTestId('study-message').textContent()).toMatch(/^answers saved; session P07 \/ VR-first: \d+ frames, 2 markers, uploading$/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const recording = recordingFromJson(readFileSync((await download.path())!, 'utf8'));
    expect(download.suggestedFilename()).toMatch(/\.json$/);
    expect(recording.session).toMatchObject({ participantId: 'P07', condition: 'VR-first', recordImages: false });
    expect(recording.endedAt).not.toBeNull();
    expect(recording.samples.length).toBeGreaterThanOrEqual(3);
    expect(recording.markers.map((m) => m.source)).toEqual(['api', 'keyboard']);
    expect(recording.responses).toEqual([expect.objectContaining({ questionnaireId: 'valence-arousal', answers: { valence: 7, arousal: 3 } })]);

    // The collection server holds the same session once the queue has drained.
    const deadline = Date.now() + 60_000;
    let stored = null;
    while (Date.now() < deadline) {
      const ids = store.sessionIds();
      stored = ids.length ? store.recording(ids[0]) : null;
      if (stored?.endedAt) break;
      await page.waitForTimeout(250);
    }
    expect(stored?.session.sessionId).toBe(recording.session.sessionId);
    expect(stored?.endedAt).toBe(recording.endedAt);
    expect(stored?.samples).toEqual(recording.samples);
    expect(stored?.markers).toEqual(recording.markers);
    expect(stored?.responses).toEqual(recording.responses);
    await context.close();
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
