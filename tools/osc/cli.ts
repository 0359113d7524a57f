/**
 * npm run osc-bridge -- [--osc-port 9000] [--ws-port 9010] [--convention unified|arkit] [--prefix FT/]
 * Forwards the browser's live blendshape weights to an OSC face-tracking consumer (see docs/developers.md).
 */
import { Command, InvalidArgumentError } from 'commander';
import { CONVENTIONS, type Convention } from './conventions.js';
import { startOscBridge } from './bridge.js';

const port = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be a port number 0..65535`);
  return n;
};

const program = new Command()
  .name('osc-bridge')
  .description('browser blendshapes (WebSocket) → OSC over UDP')
  .option('--ws-host <address>', 'WebSocket address to bind', '127.0.0.1')
  .option('--ws-port <n>', 'WebSocket port the browser connects to', port('--ws-port'), 9010)
  .option('--osc-host <address>', 'where the OSC consumer listens', '127.0.0.1')
  .option('--osc-port <n>', 'its UDP port (VRChat: 9000)', port('--osc-port'), 9000)
  .option('--convention <name>', CONVENTIONS.join(' | '), 'unified')
  .option('--prefix <text>', 'parameter prefix after /avatar/parameters/ (default: FT/ for unified, none for arkit)')
  .option('--bundle', 'one OSC bundle per update instead of one datagram per parameter')
  .option('--refresh-ms <n>', 're-send every value at least this often', (v) => Number(v), 1000)
  .option('--allow-origin <origin...>', 'extra browser origins allowed to connect');

const log = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...event })}\n`);

program.parse();
const o = program.opts();
if (!(CONVENTIONS as readonly string[]).includes(o.convention)) {
  console.error(`error: unknown convention "${o.convention}": expected ${CONVENTIONS.join(' or ')}`);
  process.exit(1);
}
if (!(o.refreshMs > 0)) {
  console.error('error: --refresh-ms must be a positive number');
  process.exit(1);
}
startOscBridge({
  wsHost: o.wsHost, wsPort: o.wsPort, oscHost: o.oscHost, oscPort: o.oscPort, convention: o.convention as Convention,
  prefix: o.prefix, bundle: o.bundle === true, refreshMs: o.refreshMs, allowOrigins: o.allowOrigin, log,
}).then((bridge) => {
  log({ event: 'listening', url: bridge.url, osc: `${o.oscHost}:${o.oscPort}`, convention: o.convention });
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (e: Error) => {
  console.error(`error: cannot start the OSC bridge: ${e.message}`);
  process.exit(1);
});
