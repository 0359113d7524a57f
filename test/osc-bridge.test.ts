/**
 * OSC bridge: the encoder against the OSC 1.0 specification's own byte examples, the address
 * conventions, and end to end: a WebSocket client sends the blendshapes of a real tracked frame to
 * the bridge (the CLI as a child process, and in-process), a real UDP socket on 127.0.0.1 receives
 * and decodes the OSC.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ARKIT_TO_UNIFIED, toParameters } from '../tools/osc/conventions.js';
import { startOscBridge } from '../tools/osc/bridge.js';
import { decodePacket, encodeBundle, encodeMessage, OscError, type OscMessage } from '../tools/osc/osc.js';
import { trackedStream } from './helpers/tracked-stream.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

describe('OSC encoding', () => {
  it('matches the OSC 1.0 specification examples byte for byte', () => {
    // "/oscillator/4/frequency" ,f 440.0
    expect(hex(encodeMessage({ address: '/oscillator/4/frequency', args: [{ type: 'f', value: 440 }] }))).toBe(
      '2f6f7363' + '696c6c61' + '746f722f' + '342f6672' + '65717565' + '6e637900' + '2c660000' + '43dc0000');
    // "/foo" ,iisff 1000 -1 "hello" 1.234 5.678
    const foo = encodeMessage({ address: '/foo', args: [
      { type: 'i', value: 1000 }, { type: 'i', value: -1 }, { type: 's', value: 'hello' }, { type: 'f', value: 1.234 }, { type: 'f', value: 5.678 },
    ] });
    expect(hex(foo)).toBe('2f666f6f00000000' + '2c69697366660000' + '000003e8' + 'ffffffff' + '68656c6c6f000000' + '3f9df3b6' + '40b5b22d');
    expect(decodePacket(foo)).toEqual([{ address: '/foo', args: [
      { type: 'i', value: 1000 }, { type: 'i', value: -1 }, { type: 's', value: 'hello' },
      { type: 'f', value: Math.fround(1.234) }, { type: 'f', value: Math.fround(5.678) },
    ] }]);
  });

  it('a face tracking parameter, booleans and a bundle', () => {
    const jaw: OscMessage = { address: '/avatar/parameters/FT/v2/JawOpen', args: [{ type: 'f', value: 0.5 }] };
    const jawHex = Buffer.from('/avatar/parameters/FT/v2/JawOpen').toString('hex') + '00000000' + '2c660000' + '3f000000';
    expect(hex(encodeMessage(jaw))).toBe(jawHex);
    expect(hex(encodeMessage({ address: '/a', args: [{ type: 'T' }, { type: 'F' }] }))).toBe('2f610000' + '2c544600');
    const bundle = encodeBundle([jaw, jaw]);
    expect(hex(bundle)).toBe('2362756e646c6500' + '0000000000000001' + `0000002c${jawHex}`.repeat(2));
    expect(decodePacket(bundle)).toEqual([jaw, jaw]);
    expect(decodePacket(fromHex('2f666f6f00000000' + '2c000000'))).toEqual([{ address: '/foo', args: [] }]);
  });

  it('refuses what OSC cannot carry', () => {
    expect(() => encodeMessage({ address: 'avatar', args: [] })).toThrow(OscError);
    expect(() => encodeMessage({ address: '/a b', args: [] })).toThrow(/reserved/);
    expect(() => encodeMessage({ address: '/é', args: [] })).toThrow(/ASCII/);
    expect(() => encodeMessage({ address: '/a', args: [{ type: 'f', value: Number.NaN }] })).toThrow(/finite/);
    expect(() => encodeMessage({ address: '/a', args: [{ type: 'i', value: 2 ** 31 }] })).toThrow(/32-bit/);
    expect(() => decodePacket(fromHex('2f666f'))).toThrow(/multiple of 4/);
    expect(() => decodePacket(fromHex('2f666f6f'))).toThrow(/NUL/);
  });
});

describe('address conventions', () => {
  it('unified: /avatar/parameters/FT/v2/<Unified name>, clamped, unknown names listed', () => {
    const { params, unknown } = toParameters({ jawOpen: 0.25, cheekPuff: 1.2, mouthSmileLeft: -0.1, eyeBlinkLeft: 1, madeUp: 0.5 });
    expect(params).toEqual([
      ['/avatar/parameters/FT/v2/CheekPuffLeft', 1],
      ['/avatar/parameters/FT/v2/CheekPuffRight', 1],
      ['/avatar/parameters/FT/v2/JawOpen', 0.25],
      ['/avatar/parameters/FT/v2/MouthSmileLeft', 0],
    ]);
    expect(unknown).toEqual(['eyeBlinkLeft', 'madeUp']);
    expect(toParameters({ jawOpen: 0.5 }, { prefix: '' }).params).toEqual([['/avatar/parameters/v2/JawOpen', 0.5]]);
    // two shapes feeding one parameter: the larger wins
    expect(toParameters({ mouthLeft: 0.2 }).params.map(([a]) => a)).toEqual(['/avatar/parameters/FT/v2/MouthLowerLeft', '/avatar/parameters/FT/v2/MouthUpperLeft']);
  });

  it('arkit: the ARKit name as is', () => {
    expect(toParameters({ jawOpen: 0.5, 'bad name': 1 }, { convention: 'arkit' })).toEqual({ params: [['/avatar/parameters/jawOpen', 0.5]], unknown: ['bad name'] });
  });

  it('names of Object.prototype members are unknown names, not table entries', () => {
    // JSON.parse makes these own properties; a plain object lookup finds the inherited functions.
    const weights = JSON.parse('{"toString": 0.5, "constructor": 0.5, "__proto__": 0.5, "hasOwnProperty": 0.5, "jawOpen": 0.25}') as Record<string, number>;
    const { params, unknown } = toParameters(weights);
    expect(params).toEqual([['/avatar/parameters/FT/v2/JawOpen', 0.25]]);
    expect(unknown.sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
  });

  it('every address the table makes is a valid OSC address', () => {
    const all = Object.fromEntries(Object.keys(ARKIT_TO_UNIFIED).map((k) => [k, 0.5]));
    for (const [address] of toParameters(all).params) expect(() => encodeMessage({ address, args: [{ type: 'f', value: 0.5 }] })).not.toThrow();
  });
});

describe('end to end over WebSocket and UDP on 127.0.0.1', () => {
  let udp: Socket;
  let udpPort: number;
  const received: Uint8Array[] = [];
  let waiters: (() => void)[] = [];
  let weights: Record<string, number>;

  /** Next n datagrams (already received ones first). */
  async function datagrams(n: number): Promise<Uint8Array[]> {
    while (received.length < n) await new Promise<void>((r) => waiters.push(r));
    return received.splice(0, n);
  }

  beforeAll(async () => {
    const stream = await trackedStream(12);
    // a frame with real weight on several shapes
    weights = stream.reduce((best, s) => (Object.values(s.blendshapes).filter((v) => v! > 0.01).length > Object.values(best).filter((v) => v > 0.01).length ? s.blendshapes as Record<string, number> : best), {} as Record<string, number>);
    udp = createSocket('udp4');
    udp.on('message', (msg) => {
      received.push(new Uint8Array(msg));
      const w = waiters;
      waiters = [];
      for (const r of w) r();
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    udpPort = udp.address().port;
  });

  afterAll(() => new Promise<void>((r) => udp.close(() => r())));

  async function connect(url: string, origin?: string): Promise<WebSocket> {
    const ws = new WebSocket(url, origin ? { origin } : {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return ws;
  }

  it('npm run osc-bridge forwards what the browser sent, one float per parameter', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/osc/cli.ts', '--ws-port', '0', '--osc-port', String(udpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const listening = await new Promise<{ url: string }>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const e = JSON.parse(line);
          if (e.event === 'listening') resolve(e);
        });
        child.once('exit', (code) => reject(new Error(`osc-bridge exited with ${code}`)));
      });
      expect(listening.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const ws = await connect(listening.url, 'http://localhost:5173');
      ws.send(JSON.stringify({ type: 'blendshapes', weights }));
      const expected = toParameters(weights).params;
      expect(expected.length).toBeGreaterThan(5);
      const got = (await datagrams(expected.length)).flatMap(decodePacket);
      expect(got.map((m) => m.address).sort()).toEqual(expected.map(([a]) => a));
      for (const m of got) {
        const value = expected.find(([a]) => a === m.address)![1];
        expect(m.args).toEqual([{ type: 'f', value: Math.fround(value) }]);
      }
      ws.close();
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('the process outlives a message over the size limit and inherited-property names, logging why it dropped them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/osc/cli.ts', '--ws-port', '0', '--osc-port', String(udpPort), '--refresh-ms', '3600000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const listening = await new Promise<{ url: string }>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const e = JSON.parse(line) as Record<string, unknown>;
          lines.push(e);
          if (e.event === 'listening') resolve(e as unknown as { url: string });
        });
        void exited.then((code) => reject(new Error(`osc-bridge exited with ${code}: ${stderr}`)));
      });
      const big = await connect(listening.url);
      const closed = new Promise<number>((r) => big.once('close', (code) => r(code)));
      big.on('error', () => {}); // the bridge closes this connection; that is the point
      big.send(JSON.stringify({ type: 'blendshapes', weights: { jawOpen: 0.5 }, padding: 'x'.repeat(70 * 1024) }));
      expect(await closed).toBe(1009); // "message too big"
      await expect.poll(() => lines.some((l) => l.event === 'socket-error' && /payload/i.test(String(l.reason)))).toBe(true);

      const ws = await connect(listening.url);
      ws.send('{"type":"blendshapes","weights":{"toString":0.5,"constructor":0.5,"jawOpen":0.625}}');
      const [packet] = await datagrams(1);
      expect(decodePacket(packet)).toEqual([{ address: '/avatar/parameters/FT/v2/JawOpen', args: [{ type: 'f', value: 0.625 }] }]);
      await expect.poll(() => lines.find((l) => l.event === 'unknown-names')?.names).toEqual(['toString', 'constructor']);
      expect(child.exitCode).toBeNull();
      ws.close();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('only changed values follow; bad messages get an error back; foreign origins are refused', async () => {
    const bridge = await startOscBridge({ wsPort: 0, oscPort: udpPort, refreshMs: 3_600_000 });
    try {
      const ws = await connect(bridge.url);
      ws.send(JSON.stringify({ type: 'blendshapes', weights }));
      await datagrams(toParameters(weights).params.length);
      ws.send(JSON.stringify({ type: 'blendshapes', weights }));
      ws.send(JSON.stringify({ type: 'blendshapes', weights: { ...weights, jawOpen: 0.75 } }));
      const [next] = await datagrams(1);
      expect(decodePacket(next)).toEqual([{ address: '/avatar/parameters/FT/v2/JawOpen', args: [{ type: 'f', value: 0.75 }] }]);

      const errors: string[] = [];
      ws.on('message', (d) => errors.push(JSON.parse(String(d)).message));
      ws.send('{"type":"blendshapes","weights":{"jawOpen":"wide"}}');
      ws.send('hello');
      await expect.poll(() => errors.length).toBe(2);
      expect(errors).toEqual(['weight jawOpen must be a finite number, got "wide"', 'message is not JSON']);
      expect(bridge.stats()).toMatchObject({ updates: 3, rejected: 2 });
      ws.close();

      await expect(connect(bridge.url, 'https://evil.example')).rejects.toThrow(/401/);
    } finally {
      await bridge.close();
    }
  });

  it('bundle mode: one datagram per update', async () => {
    const bridge = await startOscBridge({ wsPort: 0, oscPort: udpPort, bundle: true, convention: 'arkit' });
    try {
      const ws = await connect(bridge.url);
      ws.send(JSON.stringify({ type: 'blendshapes', weights }));
      const [packet] = await datagrams(1);
      const messages = decodePacket(packet);
      expect(messages.map((m) => m.address)).toEqual(Object.keys(weights).sort().map((k) => `/avatar/parameters/${k}`));
      ws.close();
    } finally {
      await bridge.close();
    }
  });
});
