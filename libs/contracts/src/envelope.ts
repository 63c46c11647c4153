import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Type, type TSchema } from '@sinclair/typebox';
import { eventCatalog, type EventData, type EventType } from './catalog.ts';
import { ContractError, ContractErrorCode } from './errors.ts';
import { uuidv7 } from './ids.ts';
import { Strict, Text, Uuid } from './schema.ts';

/**
 * Metadata every event carries. `correlationId` ties together everything that happened for one
 * action or run; `causationId` is the id of the event or command that directly caused this one;
 * `traceparent`/`tracestate` are the W3C trace context of the span that produced it, so replayed
 * history can be tied back to traces.
 */
export interface EventMetadata {
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  tracestate: string | null;
  /** The producer, `<service>@<instance>`. */
  source: string;
}

/** An event as produced and carried over NATS: id, type, schema version, time, data, metadata. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  /** When the producer created the event, ISO 8601 UTC. */
  time: string;
  data: EventData<T>;
  metadata: EventMetadata;
}

/** Any event in the catalog, discriminated on `type`. */
export type TameFlareEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

const MetadataSchema = Type.Object(
  {
    correlationId: Text(200),
    causationId: Type.Union([Text(200), Type.Null()]),
    traceparent: Type.Union([Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' }), Type.Null()]),
    tracestate: Type.Union([Text(512), Type.Null()]),
    source: Text(200),
  },
  Strict,
);
const EnvelopeHead = Type.Object(
  {
    id: Uuid,
    type: Text(100),
    version: Type.Integer({ minimum: 1 }),
    time: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$' }),
    data: Type.Unknown(),
    metadata: MetadataSchema,
  },
  Strict,
);

const headCheck = TypeCompiler.Compile(EnvelopeHead);
const dataChecks = new Map<string, TypeCheck<TSchema>>();
for (const [type, e] of Object.entries(eventCatalog)) {
  for (const [v, schema] of Object.entries(e.versions)) dataChecks.set(`${type}@${v}`, TypeCompiler.Compile(schema));
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const e = check.Errors(value).First();
  return e ? `${e.path || '/'}: ${e.message}` : 'invalid';
}

/** Options for {@link createEvent}. */
export interface CreateEventOptions {
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
  tracestate?: string | null;
  source: string;
  /** Override for tests and replays; defaults to a fresh UUIDv7. */
  id?: string;
  /** Override for tests and replays; defaults to now. */
  time?: Date;
}

/**
 * Builds a validated event of the latest version of `type`.
 *
 * @throws ContractError (`TF_ERR_CONTRACT_SCHEMA`) when `data` does not match the schema; nothing
 * is produced, so a malformed event can never be published or appended.
 */
export function createEvent<T extends EventType>(type: T, data: EventData<T>, options: CreateEventOptions): EventEnvelope<T> {
  const now = options.time ?? new Date();
  const event: EventEnvelope<T> = {
    id: options.id ?? uuidv7(now.getTime()),
    type,
    version: eventCatalog[type].latest,
    time: now.toISOString(),
    data,
    metadata: {
      correlationId: options.correlationId,
      causationId: options.causationId ?? null,
      traceparent: options.traceparent ?? null,
      tracestate: options.tracestate ?? null,
      source: options.source,
    },
  };
  return validateEvent(event) as EventEnvelope<T>;
}

/**
 * Checks that `value` is a well-formed event of a known type and version and returns it typed.
 *
 * @throws ContractError with code `TF_ERR_CONTRACT_UNKNOWN_TYPE`, `TF_ERR_CONTRACT_UNKNOWN_VERSION`
 * or `TF_ERR_CONTRACT_SCHEMA`, naming the first offending path.
 */
export function validateEvent(value: unknown): TameFlareEvent {
  if (!headCheck.Check(value)) {
    throw new ContractError(ContractErrorCode.Schema, `malformed event envelope at ${firstError(headCheck, value)}`);
  }
  const v = value as { type: string; version: number; data: unknown; id: string };
  const entry = (eventCatalog as Record<string, { versions: Record<number, unknown> }>)[v.type];
  if (!entry) {
    throw new ContractError(ContractErrorCode.UnknownType, `unknown event type "${v.type}"`, { details: { eventId: v.id, type: v.type } });
  }
  const check = dataChecks.get(`${v.type}@${v.version}`);
  if (!check) {
    throw new ContractError(ContractErrorCode.UnknownVersion, `unknown version ${v.version} of event type "${v.type}"`, {
      details: { eventId: v.id, type: v.type, version: v.version },
    });
  }
  if (!check.Check(v.data)) {
    throw new ContractError(ContractErrorCode.Schema, `${v.type} v${v.version} violates its schema at data${firstError(check, v.data)}`, {
      details: { eventId: v.id, type: v.type, version: v.version },
    });
  }
  return value as TameFlareEvent;
}

/**
 * Parses and validates an event from its JSON text or bytes.
 *
 * @throws ContractError (`TF_ERR_CONTRACT_MALFORMED`) when the input is not JSON, or any error of {@link validateEvent}.
 */
export function parseEvent(input: string | Uint8Array): TameFlareEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (cause) {
    throw new ContractError(ContractErrorCode.Malformed, 'event is not valid JSON', { cause });
  }
  return validateEvent(value);
}

/** The NATS subject an event is published on. */
export function subjectOf(event: TameFlareEvent): string {
  return (eventCatalog[event.type].subject as (d: unknown) => string)(event.data);
}

/** The event-store stream an event belongs to. */
export function streamOf(event: TameFlareEvent): string {
  return (eventCatalog[event.type].stream as (d: unknown) => string)(event.data);
}

/** True for events the request path publishes to JetStream directly (see {@link CatalogEntry.hotPath}). */
export function isHotPath(event: { type: string }): boolean {
  return (eventCatalog as Record<string, { hotPath: boolean }>)[event.type]?.hotPath === true;
}
