/**
 * Open Sound Control 1.0 messages and bundles, encoded and decoded by hand (the format is tiny):
 * an OSC-string is ASCII + NUL padded to a multiple of 4 bytes; the type tag string starts with ',';
 * numbers are big-endian 32-bit. Only the argument types face tracking needs: f, i, s, T, F.
 */

export type OscArg = { type: 'f'; value: number } | { type: 'i'; value: number } | { type: 's'; value: string } | { type: 'T' } | { type: 'F' };

export interface OscMessage {
  address: string;
  args: OscArg[];
}

export class OscError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OscError';
  }
}

const pad4 = (n: number) => (n + 3) & ~3;

function oscString(text: string): Uint8Array {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0x7e) throw new OscError(`OSC strings are printable ASCII; ${JSON.stringify(text)} has character code ${c} at ${i}`);
  }
  const out = new Uint8Array(pad4(text.length + 1)); // at least one NUL
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function encodeMessage(message: OscMessage): Uint8Array {
  if (typeof message.address !== 'string' || !message.address.startsWith('/')) throw new OscError(`an OSC address starts with "/", got ${JSON.stringify(message.address)}`);
  if (/[\s#*,?[\]{}]/.test(message.address)) throw new OscError(`OSC address ${JSON.stringify(message.address)} has a space or a reserved character (# * , ? [ ] { })`);
  const parts = [oscString(message.address), oscString(`,${message.args.map((a) => a.type).join('')}`)];
  for (const arg of message.args) {
    if (arg.type === 'f' || arg.type === 'i') {
      if (!Number.isFinite(arg.value)) throw new OscError(`OSC ${arg.type} argument must be finite, got ${arg.value}`);
      const b = new Uint8Array(4);
      const view = new DataView(b.buffer);
      if (arg.type === 'f') view.setFloat32(0, arg.value, false);
      else {
        if (!Number.isInteger(arg.value) || arg.value < -(2 ** 31) || arg.value >= 2 ** 31) throw new OscError(`OSC i argument must be a 32-bit integer, got ${arg.value}`);
        view.setInt32(0, arg.value, false);
      }
      parts.push(b);
    } else if (arg.type === 's') {
      parts.push(oscString(arg.value));
    } else if (arg.type !== 'T' && arg.type !== 'F') {
      throw new OscError(`unsupported OSC argument type ${JSON.stringify((arg as { type: unknown }).type)}`);
    }
  }
  return concat(parts);
}

/** A bundle to be applied at once; timetag 1 means "immediately" (OSC 1.0). */
export function encodeBundle(messages: OscMessage[], timetag: bigint = 1n): Uint8Array {
  const head = new Uint8Array(16);
  head.set(oscString('#bundle'), 0);
  new DataView(head.buffer).setBigUint64(8, timetag, false);
  const parts: Uint8Array[] = [head];
  for (const m of messages) {
    const body = encodeMessage(m);
    const size = new Uint8Array(4);
    new DataView(size.buffer).setInt32(0, body.length, false);
    parts.push(size, body);
  }
  return concat(parts);
}

function readString(bytes: Uint8Array, at: number): [string, number] {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  if (end >= bytes.length) throw new OscError(`OSC string at byte ${at} has no terminating NUL`);
  return [String.fromCharCode(...bytes.subarray(at, end)), pad4(end + 1)];
}

/** Decodes one packet: a message, or a bundle's messages in order (nested bundles flattened). */
export function decodePacket(bytes: Uint8Array): OscMessage[] {
  if (bytes.length % 4 !== 0) throw new OscError(`an OSC packet is a multiple of 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [first, afterFirst] = readString(bytes, 0);
  if (first === '#bundle') {
    const out: OscMessage[] = [];
    let at = afterFirst + 8;
    while (at < bytes.length) {
      const size = view.getInt32(at, false);
      if (size <= 0 || at + 4 + size > bytes.length) throw new OscError(`bundle element at byte ${at} has a bad size ${size}`);
      out.push(...decodePacket(bytes.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    return out;
  }
  const [tags, afterTags] = readString(bytes, afterFirst);
  if (!tags.startsWith(',')) throw new OscError(`type tag string must start with ",", got ${JSON.stringify(tags)}`);
  const args: OscArg[] = [];
  let at = afterTags;
  for (const t of tags.slice(1)) {
    if (t === 'f' || t === 'i') {
      if (at + 4 > bytes.length) throw new OscError('OSC message ends inside an argument');
      args.push({ type: t, value: t === 'f' ? view.getFloat32(at, false) : view.getInt32(at, false) });
      at += 4;
    } else if (t === 's') {
      const [value, next] = readString(bytes, at);
      args.push({ type: 's', value });
      at = next;
    } else if (t === 'T' || t === 'F') {
      args.push({ type: t });
    } else {
      throw new OscError(`unsupported OSC type tag ${JSON.stringify(t)}`);
    }
  }
  return [{ address: first, args }];
}
