import { createHash } from 'node:crypto';
import { canonicalJson, sha256Hex } from '@tameflare/contracts';

/** The chain hash before the first event: 32 zero bytes. */
export const GENESIS_CHAIN_HASH = '0'.repeat(64);

/** What the chain commits to for one event: the envelope exactly as stored, and where it is stored. */
export interface SealedRecord {
  /** The stored envelope (`id`, `type`, `version`, `time`, `data`, `metadata`). */
  readonly event: unknown;
  readonly streamId: string;
  /** 0-based version of the event in its stream. */
  readonly streamVersion: bigint | number | string;
}

/**
 * SHA-256 of `canonicalJson({ event, streamId, streamVersion })`, lowercase hex. The stream and
 * version are inside the hash so that moving an event to another stream or slot is a change too.
 */
export function eventHash(record: SealedRecord): string {
  return sha256Hex(canonicalJson({ event: record.event, streamId: record.streamId, streamVersion: String(record.streamVersion) }));
}

/** SHA-256 of the 64 bytes `previous chain hash ‖ event hash`, lowercase hex. */
export function chainHash(previous: string, eventHashHex: string): string {
  return createHash('sha256').update(Buffer.from(previous, 'hex')).update(Buffer.from(eventHashHex, 'hex')).digest('hex');
}
