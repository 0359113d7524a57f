/**
 * Fetching a file the user named (a model, an avatar) so that "it is not there" reads as such. Dev
 * servers and single-page hosts answer an unknown path with the app's index.html and status 200:
 * parsed as JSON or glTF that used to surface as "not valid JSON", as if the file were corrupt.
 */

export class AssetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetNotFoundError';
  }
}

const decoder = new TextDecoder();

/** True when the bytes (or the content type) say the server sent a web page. */
export function looksLikeHtml(contentType: string | null, head: Uint8Array): boolean {
  if (contentType && /\btext\/html\b/i.test(contentType)) return true;
  const text = decoder.decode(head.subarray(0, 64)).trimStart().toLowerCase();
  return text.startsWith('<!doctype html') || text.startsWith('<html');
}

/** Why a response is not the file asked for, or null when it may be it. */
export function missingReason(response: Response, head: Uint8Array): string | null {
  if (response.status === 404 || response.status === 410) return `the server answered HTTP ${response.status} (no such file)`;
  if (!response.ok) return null;
  if (looksLikeHtml(response.headers.get('content-type'), head)) return 'the server answered with a web page (HTML) instead: the path is probably wrong';
  return null;
}

/** The file's bytes; AssetNotFoundError when it is not there, Error for other failures. */
export async function fetchAsset(url: string, what: string): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${what} could not be fetched: ${(e as Error).message}`);
  }
  const bytes = await response.arrayBuffer();
  const missing = missingReason(response, new Uint8Array(bytes, 0, Math.min(64, bytes.byteLength)));
  if (missing) throw new AssetNotFoundError(`${what} was not found: ${missing}`);
  if (!response.ok) throw new Error(`${what} answered HTTP ${response.status} ${response.statusText}`.trim());
  return bytes;
}

/** After a load failed: asks the server again to tell a missing file from a broken one (null: it is there). */
export async function probeMissing(url: string): Promise<string | null> {
  try {
    const response = await fetch(url);
    const reader = response.body?.getReader();
    const first = reader ? (await reader.read()).value ?? new Uint8Array() : new Uint8Array(await response.arrayBuffer());
    void reader?.cancel();
    return missingReason(response, first);
  } catch (e) {
    return `it could not be fetched (${(e as Error).message})`;
  }
}
