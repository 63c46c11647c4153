import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The start of a request body, read for classification, digests and approval holds. */
export interface BodyPrefix {
  /** False for a request without a body (no Content-Length, no Transfer-Encoding). */
  hasBody: boolean;
  chunks: Buffer[];
  length: number;
  /** True when the whole body was read; false when the rest is still unread on the socket. */
  ended: boolean;
}

export const NO_BODY: BodyPrefix = Object.freeze({ hasBody: false, chunks: [], length: 0, ended: true }) as BodyPrefix;

/** Thrown when the agent goes away while its body is being read. */
export class BodyAborted extends Error {}

/**
 * Reads the body up to `limit` bytes and pauses there, so a large upload is never held in
 * memory: the rest stays in the socket (TCP backpressure) until the request is allowed.
 */
export function readBodyPrefix(req: IncomingMessage, limit: number): BodyPrefix | Promise<BodyPrefix> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return NO_BODY;
  if (req.complete && req.readableLength === 0) return { hasBody: true, chunks: [], length: 0, ended: true };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length > limit) {
        req.pause();
        cleanup();
        resolve({ hasBody: true, chunks, length, ended: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ hasBody: true, chunks, length, ended: true });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new BodyAborted('the agent closed the connection during the request body', { cause: err }));
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(new BodyAborted('the agent closed the connection during the request body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** SHA-256 (hex) of a fully read body; null when only a prefix was read. */
export function bodyDigest(prefix: BodyPrefix): string | null {
  if (!prefix.hasBody || !prefix.ended) return null;
  const h = createHash('sha256');
  for (const c of prefix.chunks) h.update(c);
  return h.digest('hex');
}

/** The inspected bytes as one buffer (null without a body). */
export function prefixBuffer(prefix: BodyPrefix): Buffer | null {
  if (!prefix.hasBody) return null;
  return prefix.chunks.length === 1 ? prefix.chunks[0]! : Buffer.concat(prefix.chunks);
}
