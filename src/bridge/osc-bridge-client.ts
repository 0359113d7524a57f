/**
 * Browser side of the OSC bridge (tools/osc): sends the tracker's ARKit blendshape weights to the
 * local bridge process over a WebSocket. Off unless an app creates it. Live data is never queued:
 * while the bridge is unreachable, updates are dropped and the client reconnects with backoff.
 *
 *   const osc = connectOscBridge('ws://127.0.0.1:9010');
 *   osc.send(result.blendshapes);   // each tracker result
 *   osc.close();
 */
export type OscBridgeState = 'connecting' | 'open' | 'closed';

export interface OscBridgeClient {
  readonly state: OscBridgeState;
  /** false when the update was dropped (not connected, or the socket is backed up) */
  send(weights: Partial<Record<string, number>>): boolean;
  close(): void;
}

export interface OscBridgeClientOptions {
  /** called with the bridge's complaint about a message */
  onError?: (message: string) => void;
  onStateChange?: (state: OscBridgeState) => void;
  /** reconnect delay cap, ms (default 10 s) */
  maxRetryMs?: number;
}

export const DEFAULT_OSC_BRIDGE_URL = 'ws://127.0.0.1:9010';

export function connectOscBridge(url = DEFAULT_OSC_BRIDGE_URL, options: OscBridgeClientOptions = {}): OscBridgeClient {
  let socket: WebSocket | null = null;
  let state: OscBridgeState = 'connecting';
  let closed = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setState = (next: OscBridgeState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  const open = () => {
    if (closed) return;
    setState('connecting');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => { failures = 0; setState('open'); };
    ws.onmessage = (event) => {
      try {
        const msg = JSON.parse(String(event.data)) as { type?: string; message?: string };
        if (msg.type === 'error' && msg.message) options.onError?.(msg.message);
      } catch { /* the bridge only sends JSON */ }
    };
    ws.onclose = () => {
      socket = null;
      if (closed) return;
      setState('connecting');
      failures++;
      timer = setTimeout(open, Math.min(options.maxRetryMs ?? 10_000, 250 * 2 ** Math.min(failures, 6)));
    };
  };
  open();

  return {
    get state() { return state; },
    send(weights) {
      // A socket with unsent data is a slow consumer: newer frames matter more than old ones.
      if (!socket || socket.readyState !== WebSocket.OPEN || socket.bufferedAmount > 16_384) return false;
      const clean: Record<string, number> = {};
      for (const [k, v] of Object.entries(weights)) if (typeof v === 'number' && Number.isFinite(v)) clean[k] = v;
      socket.send(JSON.stringify({ type: 'blendshapes', weights: clean }));
      return true;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
      socket = null;
      setState('closed');
    },
  };
}
