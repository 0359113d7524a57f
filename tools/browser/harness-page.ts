/**
 * Page side of the browser harness (tests and bench:browser): exposes the tracker API on window so
 * playwright's page.evaluate can drive it. Nothing here is part of the library.
 */
import * as tracker from '../../src/tracker/index.js';

declare global {
  interface Window { halfface: typeof tracker; halffaceReady: boolean }
}

window.halfface = tracker;
window.halffaceReady = true;

/** bench:browser's page functions, loaded only when asked for. */
(window as unknown as { halffaceBench: () => Promise<unknown> }).halffaceBench = () => import('./bench-page.js');
