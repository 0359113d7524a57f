/** Loopback helpers shared by the reliability command and its tests. */
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a server started next will normally get it). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}
