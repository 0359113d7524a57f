/**
 * The OSC bridge: a WebSocket server on loopback that the browser feeds with blendshape weights,
 * forwarding them as OSC over UDP to a face-tracking consumer (VRChat's OSC input on 9000 by
 * default). Only values that changed are sent, plus every value once per refresh period, so an
 * app that starts late (or drops a UDP packet) still converges.
 *
 * Browser → bridge messages (JSON text frames):
 *   { "type": "blendshapes", "weights": { "jawOpen": 0.31, "mouthSmileLeft": 0.8, ... } }
 * Bridge → browser: { "type": "error", "message": "..." } for a message it could not use.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { toParameters, type AddressOptions } from './conventions.js';
import { encodeBundle, encodeMessage, type OscMessage } from './osc.js';

export interface BridgeOptions extends AddressOptions {
  wsHost?: string;
  /** WebSocket port (0 = any free one; default 9010) */
  wsPort?: number;
  oscHost?: string;
  oscPort?: number;
  /** send each update as one OSC bundle instead of one datagram per parameter */
  bundle?: boolean;
  /** every value is re-sent at least this often, ms (default 1000) */
  refreshMs?: number;
  /** browser origins allowed besides http(s)://localhost|127.0.0.1|[::1] (any port) */
  allowOrigins?: string[];
  log?: (event: Record<string, unknown>) => void;
}

export interface OscBridge {
  /** ws://host:port the browser connects to */
  url: string;
  stats(): { updates: number; datagrams: number; rejected: number; clients: number };
  close(): Promise<void>;
}

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
/** Smallest change worth a datagram: below one 8-bit step of VRChat's synced float parameters. */
const EPSILON = 1 / 512;
const MAX_MESSAGE_BYTES = 64 * 1024;

/** Validates one browser message; returns the weights or a reason. */
export function parseUpdate(text: string): { weights: Record<string, number> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'message is not JSON' };
  }
  const msg = value as { type?: unknown; weights?: unknown };
  if (!msg || typeof msg !== 'object' || msg.type !== 'blendshapes') return { error: 'expected {"type":"blendshapes","weights":{...}}' };
  if (!msg.weights || typeof msg.weights !== 'object' || Array.isArray(msg.weights)) return { error: 'weights must be an object of name → number' };
  // No prototype: a weight named "__proto__" stays a (reported, unknown) name instead of vanishing.
  const weights: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(msg.weights)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return { error: `weight ${k} must be a finite number, got ${JSON.stringify(v)}` };
    weights[k] = v;
  }
  return { weights };
}

export async function startOscBridge(options: BridgeOptions = {}): Promise<OscBridge> {
  const wsHost = options.wsHost ?? '127.0.0.1';
  const oscHost = options.oscHost ?? '127.0.0.1';
  const oscPort = options.oscPort ?? 9000;
  const refreshMs = options.refreshMs ?? 1000;
  const log = options.log ?? (() => {});
  const allowed = new Set(options.allowOrigins ?? []);
  const udp: Socket = createSocket(isIPv6(oscHost) ? 'udp6' : 'udp4');
  // An unhandled 'error' event ends the process: every emitter the bridge owns gets a listener.
  udp.on('error', (e) => log({ event: 'udp-error', reason: e.message }));
  const last = new Map<string, number>();
  let lastFullMs = -Infinity;
  const counts = { updates: 0, datagrams: 0, rejected: 0 };

  const wss = new WebSocketServer({
    host: wsHost,
    port: options.wsPort ?? 9010,
    maxPayload: MAX_MESSAGE_BYTES,
    // Any web page can open a WebSocket to localhost; only our app's origins may drive the avatar.
    verifyClient: ({ origin }: { origin?: string }) => origin === undefined || LOCAL_ORIGIN.test(origin) || allowed.has(origin),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('error', (e) => log({ event: 'server-error', reason: e.message }));

  const sendDatagram = (bytes: Uint8Array) => {
    counts.datagrams++;
    udp.send(bytes, oscPort, oscHost, (e) => { if (e) log({ event: 'udp-error', error: e.message }); });
  };

  const forward = (weights: Record<string, number>) => {
    const { params, unknown } = toParameters(weights, options);
    const now = Date.now();
    const full = now - lastFullMs >= refreshMs;
    if (full) lastFullMs = now;
    const messages: OscMessage[] = [];
    for (const [address, value] of params) {
      const before = last.get(address);
      if (!full && before !== undefined && Math.abs(before - value) < EPSILON) continue;
      last.set(address, value);
      messages.push({ address, args: [{ type: 'f', value }] });
    }
    counts.updates++;
    if (messages.length === 0) return unknown;
    if (options.bundle) sendDatagram(encodeBundle(messages));
    else for (const m of messages) sendDatagram(encodeMessage(m));
    return unknown;
  };

  wss.on('connection', (socket: WebSocket, req) => {
    log({ event: 'connected', origin: req.headers.origin ?? null });
    let warned = false;
    const reject = (reason: string) => {
      counts.rejected++;
      log({ event: 'dropped', reason });
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', message: reason }));
    };
    socket.on('message', (data, isBinary) => {
      const parsed = isBinary ? { error: 'send JSON text, not binary' } : parseUpdate(data.toString());
      if ('error' in parsed) {
        reject(parsed.error);
        return;
      }
      let unknown: string[];
      try {
        unknown = forward(parsed.weights);
      } catch (e) {
        // One message the encoder cannot carry must not end the bridge for every other one.
        reject(`could not forward the update: ${(e as Error).message}`);
        return;
      }
      if (unknown.length && !warned) {
        warned = true;
        log({ event: 'unknown-names', names: unknown });
      }
    });
    // ws reports a message over maxPayload (and other protocol errors) here, then closes the
    // connection with 1009/1002; without a listener the error would end the process.
    socket.on('error', (e) => {
      counts.rejected++;
      log({ event: 'socket-error', reason: e.message });
    });
    socket.on('close', () => log({ event: 'disconnected' }));
  });

  const address = wss.address() as { address: string; port: number; family: string };
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `ws://${host}:${address.port}`,
    stats: () => ({ ...counts, clients: wss.clients.size }),
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => udp.close(() => resolve()));
    }),
  };
}
