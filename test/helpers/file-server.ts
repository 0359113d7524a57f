/**
 * A real HTTP server on 127.0.0.1 that answers a fixed set of paths (404 for the rest): for the
 * tests of loaders that fetch a model over the network.
 */
import { createServer } from 'node:http';

export interface FileServer { base: string; close(): Promise<void> }

export async function serveFiles(files: ReadonlyMap<string, string | Uint8Array>): Promise<FileServer> {
  const server = createServer((req, res) => {
    const body = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
