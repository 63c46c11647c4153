/**
 * Test helpers (not for production code): the leak search behind "a credential never appears in a
 * log line, an event, a NATS message in clear, or the database". Structural types only, so this
 * library still depends on nothing but node.
 */
export {
  leakNeedles,
  searchBlobs,
  searchFiles,
  searchPostgres,
  startNatsCapture,
  type CaptureConnection,
  type CapturedMessage,
  type LeakHit,
  type NatsCapture,
  type Needle,
  type SqlQueryable,
} from './leak-search.ts';
