/**
 * Generates docs/events.md from the contracts: streams, consumers, event subjects and schemas,
 * KV buckets, commands and their payloads, headers, the error convention. Run it with
 * `npm run docs:events` after changing anything in libs/contracts; a unit test fails while the
 * committed file is stale.
 *
 * Commands and buckets are matched to their schemas through the TSDoc convention the contracts
 * already follow: a schema whose comment names `tf.cmd.x.y` (or "KV `tf_bucket`") documents it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import * as contracts from '../src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, '..', 'src');
export const eventsDocPath = join(here, '..', '..', '..', 'docs', 'events.md');

const { eventCatalog, Streams, Consumers, Commands, ControlSubjects, Buckets, Headers, CONTRACTS_VERSION } = contracts;
const exported = contracts as unknown as Record<string, unknown>;

/** A stand-in for event data whose every field prints as `<path>`, to turn subject functions into patterns. */
function placeholder(path: string): unknown {
  return new Proxy(
    {},
    {
      get(_t, key) {
        if (key === Symbol.toPrimitive || key === 'toString') return () => `<${path}>`;
        if (typeof key === 'symbol') return undefined;
        return placeholder(path ? `${path}.${key}` : key);
      },
    },
  );
}

function pattern(fn: (d: unknown) => string): string {
  return fn(placeholder(''));
}

function json(schema: unknown): string {
  return JSON.stringify(schema, null, 2);
}

function schemaBlock(title: string, schema: unknown): string[] {
  return ['<details><summary>' + title + '</summary>', '', '```json', json(schema), '```', '', '</details>', ''];
}

interface DocComment {
  name: string;
  comment: string;
  file: string;
}

/** `export const XSchema` (and `X = { subject }` constants) with the comment just above them, in source order. */
function documentedSchemas(): DocComment[] {
  const out: DocComment[] = [];
  const files = ['kv.ts', 'sealed.ts', ...readdirSync(join(srcDir, 'commands')).map((f) => `commands/${f}`)].filter((f) => f.endsWith('.ts') && !f.includes('.test.'));
  for (const file of files.sort()) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    const re = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?export const (\w+Schema)\b/g;
    for (const m of text.matchAll(re)) out.push({ name: m[2]!, comment: m[1] ?? '', file });
    // A command constant (`export const X = { subject: 'tf.cmd...' }`) documents the request schema declared after it.
    for (const m of text.matchAll(/export const \w+ = \{ subject: '(tf\.cmd\.[a-z0-9_.]+)'/g)) {
      const after = text.slice(m.index! + m[0].length);
      const req = /export const (\w+RequestSchema)\b/.exec(after);
      if (req) out.push({ name: req[1]!, comment: `/** \`${m[1]}\` */`, file });
    }
  }
  return out;
}

/** Subjects a comment documents: `tf.cmd.a.b` and shorthand siblings such as `` / `.c` ``. */
function subjectsIn(comment: string): string[] {
  const found: string[] = [];
  for (const m of comment.matchAll(/`(tf\.(?:cmd|ctl)\.[a-z0-9_.]+)`((?:\s*\/\s*`\.[a-z0-9_]+`)*)/g)) {
    found.push(m[1]!);
    const base = m[1]!.slice(0, m[1]!.lastIndexOf('.'));
    for (const s of (m[2] ?? '').matchAll(/`\.([a-z0-9_]+)`/g)) found.push(`${base}.${s[1]}`);
  }
  return found;
}

function commandSchemas(docs: DocComment[]): Map<string, { request?: string; reply?: string }> {
  const map = new Map<string, { request?: string; reply?: string }>();
  docs.forEach((d, i) => {
    for (const subject of subjectsIn(d.comment)) {
      if (map.has(subject)) continue;
      const isReply = /Reply|Ack/.test(d.name) && !/Request/.test(d.name);
      if (isReply) {
        map.set(subject, { reply: d.name });
        continue;
      }
      const entry: { request?: string; reply?: string } = { request: d.name };
      const replyName = d.name.replace(/Request(Schema)$/, 'Reply$1');
      if (replyName !== d.name && replyName in exported) entry.reply = replyName;
      else {
        // The first reply schema after the request in the same file, before the next documented command.
        for (const next of docs.slice(i + 1)) {
          if (next.file !== d.file || (subjectsIn(next.comment).length && !/Reply/.test(next.name))) break;
          if (/ReplySchema$/.test(next.name)) {
            entry.reply = next.name;
            break;
          }
        }
      }
      map.set(subject, entry);
    }
  });
  return map;
}

function bucketSchemas(docs: DocComment[]): Map<string, { schema: string; comment: string }> {
  const map = new Map<string, { schema: string; comment: string }>();
  for (const d of docs) {
    for (const m of d.comment.matchAll(/KV `(tf_[a-z_]+)`/g)) if (!map.has(m[1]!)) map.set(m[1]!, { schema: d.name, comment: d.comment });
  }
  return map;
}

function cleanComment(c: string): string {
  return c
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .join(' ')
    .replace(/\{@link (\w+)\}/g, '`$1`')
    .replace(/\s+/g, ' ')
    .trim();
}

const bucketKeys: Record<string, string> = Object.fromEntries(
  Object.entries(Buckets).map(([k]) => [k, '']),
);

/** The Markdown of docs/events.md. */
export function renderEventsDoc(): string {
  const docs = documentedSchemas();
  const cmdSchemas = commandSchemas(docs);
  const kvSchemas = bucketSchemas(docs);
  const L: string[] = [];
  L.push(
    '# NATS contracts: events, commands, buckets',
    '',
    `<!-- Generated by \`npm run docs:events\` (libs/contracts/scripts/generate-events-doc.ts) from libs/contracts. Do not edit by hand. -->`,
    '',
    `Contracts version **${CONTRACTS_VERSION}**. Everything TameFlare says on NATS is listed here: the JetStream stream other`,
    'tools subscribe to, every event subject with its type, version and JSON Schema, the KV buckets services watch,',
    'and the request/reply commands between services. Subjects, streams and buckets are defined once in',
    '`libs/contracts/src/subjects.ts` and the event catalog in `libs/contracts/src/catalog.ts`.',
    '',
    '## Streams',
    '',
    '| stream | subjects | storage | retention | dedupe | what it holds |',
    '|---|---|---|---|---|---|',
    `| \`${Streams.events.name}\` | ${Streams.events.subjects.map((s) => `\`${s}\``).join(', ')} | file | limits (no max age by default) | \`Nats-Msg-Id\` = event id, 2 min window | Every event. Request-path events are published here first (the publish ack is their durability point); other events are relayed here from the event store. |`,
    '',
    'Retention, max age and the duplicate window are set by `bus.ensureStreams()` (libs/messaging).',
    '',
    '## Durable consumers',
    '',
    '| durable | stream | filter subject |',
    '|---|---|---|',
    ...Object.values(Consumers).map((c) => `| \`${c.durable}\` | \`${c.stream}\` | \`${c.filterSubject}\` |`),
    '',
    'All are pull consumers with explicit acks, shared by every replica of their service. Use your own durable name',
    'for your own tool (see [Subscribing from another tool](#subscribing-from-another-tool)).',
    '',
    '## Headers',
    '',
    '| header | on | value |',
    '|---|---|---|',
    `| \`${Headers.msgId}\` | events | the event id (UUIDv7); JetStream drops a second copy inside the duplicate window |`,
    `| \`${Headers.eventType}\` | events | the event type, e.g. \`ActionDecided\` |`,
    `| \`${Headers.eventVersion}\` | events | the schema version of \`data\`, e.g. \`1\` |`,
    `| \`${Headers.correlationId}\` | events | \`metadata.correlationId\` (the action or run everything belongs to) |`,
    `| \`${Headers.gatewayId}\` | events with a gateway | the gateway id |`,
    '| `traceparent`, `tracestate` | every event, request, reply and publish | W3C trace context of the producing span |',
    '| `Nats-Service-Error-Code`, `Nats-Service-Error` | error replies | see [Request/reply errors](#requestreply-errors) |',
    '',
    '## Event envelope',
    '',
    'Every event is one JSON object (UTF-8) with the same envelope; `data` follows the schema of its type and version.',
    'Schemas are closed (`additionalProperties: false`): a consumer can reject anything it does not know.',
    '',
    '| field | type | meaning |',
    '|---|---|---|',
    '| `id` | UUIDv7 | unique event id; also the `Nats-Msg-Id` and the event-store idempotency key |',
    '| `type` | string | event type (see below) |',
    '| `version` | integer ≥ 1 | schema version of `data` |',
    '| `time` | ISO 8601 UTC | when the producer created it |',
    '| `data` | object | the payload, per the type\'s schema |',
    '| `metadata.correlationId` | string | ties together everything for one action or run |',
    '| `metadata.causationId` | string or null | the event or command that directly caused this one |',
    '| `metadata.traceparent`, `metadata.tracestate` | string or null | W3C trace context of the producing span |',
    '| `metadata.source` | string | producer, `<service>@<instance>` |',
    '',
    '## Events',
    '',
    '| type | version | subject | event-store stream | path |',
    '|---|---|---|---|---|',
  );
  for (const [type, e] of Object.entries(eventCatalog)) {
    const versions = Object.keys(e.versions).join(', ');
    L.push(
      `| [\`${type}\`](#${type.toLowerCase()}) | ${versions} | \`${pattern(e.subject as (d: unknown) => string)}\` | \`${pattern(e.stream as (d: unknown) => string)}\` | ${e.hotPath ? 'request path (JetStream first)' : 'event store, relayed'} |`,
    );
  }
  L.push(
    '',
    'Three facts of an action are members of these events rather than events of their own, because each is produced',
    'by the same process at the same instant as the event that carries it, and a separate event would add a',
    'JetStream write to every request on the hot path:',
    '',
    '- **classified**: `ActionRequested.data.action` (type, connector, resource, parameters, risk, notes) with',
    '  `classifierVersion`; the ingress classifies before it publishes, so no request is recorded unclassified.',
    '- **forwarded**: `ActionCompleted.data.forwarded` (true when the request reached the upstream) with `upstreamMs`.',
    '- **credential used**: `ActionCompleted.data.credential` (secret name and version injected into that request);',
    '  `CredentialReleased` records the vault handing it, sealed, to one ingress instance.',
    '',
    'Every `ActionRequested` has exactly one `ActionCompleted`, whatever the outcome, so the audit can be checked id by id.',
    'Approval and kill-switch events are appended to the event store by their service and reach `TF_EVENTS` through the',
    'recorder\'s relay; the approval service also publishes them at once (same message id), so a held request hears of a',
    'grant without waiting for the relay. A subscriber should treat the event id as the key: inside the duplicate window',
    'JetStream keeps one copy, after it a relayed copy can arrive again.',
    '',
  );
  for (const [type, e] of Object.entries(eventCatalog)) {
    L.push(`### ${type}`, '', `Subject \`${pattern(e.subject as (d: unknown) => string)}\`, family \`${e.family}\`, latest version ${e.latest}.`, '');
    for (const [v, schema] of Object.entries(e.versions)) L.push(...schemaBlock(`<code>${type}</code> v${v}: JSON Schema of <code>data</code>`, schema));
  }

  L.push('## KV buckets', '', 'JetStream key-value buckets (file storage, last value per key) created by `bus.ensureBuckets()`.', '', '| bucket | keys | value schema |', '|---|---|---|');
  const bucketDocs = bucketDocComments();
  for (const [key, bucket] of Object.entries(Buckets)) {
    const s = kvSchemas.get(bucket);
    const ttl = bucket === Buckets.instances ? ' Entries expire with the bucket TTL (default 15 s) unless refreshed.' : '';
    L.push(`| \`${bucket}\` | ${(bucketDocs[key] ?? '').replace(/\|/g, '\\|')}${ttl} | ${s ? `[\`${s.schema}\`](#${bucket})` : 'not in libs/contracts yet'} |`);
  }
  L.push('');
  for (const bucket of Object.values(Buckets)) {
    const s = kvSchemas.get(bucket);
    if (!s) continue;
    L.push(`### ${bucket}`, '', cleanComment(s.comment), '', ...schemaBlock(`<code>${s.schema}</code>`, exported[s.schema]));
  }

  L.push(
    '## Commands (request/reply)',
    '',
    'Services answer commands in a queue group: any number of replicas share the load and exactly one answers each',
    'request. Payloads are JSON; a missing schema means the payload is not in libs/contracts yet.',
    '',
    '| subject | queue group | request | reply |',
    '|---|---|---|---|',
  );
  const commands = new Map<string, { subject: string; queue: string }>();
  for (const c of Object.values(Commands)) commands.set(c.subject, c);
  for (const v of Object.values(exported)) {
    const c = v as { subject?: unknown; queue?: unknown };
    if (c && typeof c === 'object' && typeof c.subject === 'string' && typeof c.queue === 'string' && c.subject.startsWith('tf.cmd.')) commands.set(c.subject, c as { subject: string; queue: string });
  }
  const link = (name: string | undefined) => (name ? `[\`${name}\`](#${name.toLowerCase()})` : '–');
  for (const c of [...commands.values()].sort((a, b) => a.subject.localeCompare(b.subject))) {
    const s = cmdSchemas.get(c.subject);
    L.push(`| \`${c.subject}\` | \`${c.queue}\` | ${link(s?.request)} | ${link(s?.reply)} |`);
  }
  L.push('', '### Control-plane subjects (core NATS, not stored)', '', '| subject | payload |', '|---|---|');
  for (const subject of Object.values(ControlSubjects)) {
    const s = cmdSchemas.get(subject);
    L.push(`| \`${subject}\` | ${link(s?.request ?? s?.reply)} |`);
  }
  L.push('', '### Payload schemas', '');
  const shown = new Set<string>();
  for (const s of [...cmdSchemas.values()]) {
    for (const name of [s.request, s.reply]) {
      if (!name || shown.has(name) || !(name in exported)) continue;
      shown.add(name);
      L.push(`#### ${name}`, '', ...schemaBlock(`<code>${name}</code>`, exported[name] as TSchema));
    }
  }

  L.push(
    '## Request/reply errors',
    '',
    'A responder that refuses a request replies with headers, compatible with the NATS service framework:',
    '',
    '```',
    'Nats-Service-Error-Code: TF_ERR_VAULT_SECRET_NOT_FOUND',
    'Nats-Service-Error: secret "github" does not exist',
    '',
    '{"error":{"code":"TF_ERR_VAULT_SECRET_NOT_FOUND","message":"secret \\"github\\" does not exist","details":{"name":"github"}}}',
    '```',
    '',
    '- A successful reply has no `Nats-Service-Error-Code` header; its body is the JSON result.',
    '- `code` is a stable `TF_ERR_*` code; `libs/messaging` re-throws it on the caller\'s side as a `RemoteError` with the',
    '  same code and message (`isTameFlareError(err, code)` matches it).',
    '- A failure that is not a deliberate TameFlare error is answered `TF_ERR_INTERNAL` / `internal error`; the',
    '  details stay in the responder\'s log.',
    '- A payload that is not JSON is answered `TF_ERR_CONTRACT_MALFORMED`.',
    '- Transport failures never reach the wire as replies; the caller gets `TF_ERR_NATS_TIMEOUT`,',
    '  `TF_ERR_NATS_NO_RESPONDERS`, `TF_ERR_NATS_UNAVAILABLE`, `TF_ERR_NATS_CLOSED` or `TF_ERR_NATS_PERMISSION_DENIED`.',
    '',
    '## Subscribing from another tool',
    '',
    'Create your own durable consumer on `TF_EVENTS` with one filter subject (nats-server 2.9 accepts one filter per',
    'consumer), then pull and ack. Every event is delivered at least once; deduplicate by `id` if you must act once.',
    'With per-service NATS users, connect as `external` (read-only on `TF_EVENTS`).',
    '',
    '```ts',
    "import { connect } from '@nats-io/transport-node';",
    "import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';",
    '',
    "const nc = await connect({ servers: 'nats://127.0.0.1:4222', user: 'external', pass: process.env.NATS_PASSWORD, inboxPrefix: '_INBOX.external' });",
    'const jsm = await jetstreamManager(nc);',
    "await jsm.consumers.add('TF_EVENTS', {",
    "  durable_name: 'slack-approvals',",
    "  filter_subject: 'tf.evt.approval.requested.>',",
    '  ack_policy: AckPolicy.Explicit,',
    '  deliver_policy: DeliverPolicy.All,',
    '});',
    "const consumer = await jetstream(nc).consumers.get('TF_EVENTS', 'slack-approvals');",
    'for await (const m of await consumer.consume({ max_messages: 10 })) {',
    "  const event = m.json<{ id: string; type: string; version: number; data: unknown }>();",
    "  if (m.headers?.get('Tf-Event-Type') === 'ApprovalRequested') await notify(event);",
    '  m.ack();',
    '}',
    '```',
    '',
    'Or with the `nats` CLI: `nats consumer add TF_EVENTS my-siem --filter "tf.evt.action.decided.>" --pull --ack explicit --deliver all`',
    'then `nats consumer next TF_EVENTS my-siem --count 10`.',
    '',
  );
  return L.join('\n');
}

/** The TSDoc of each `Buckets` member, as key descriptions. */
function bucketDocComments(): Record<string, string> {
  const text = readFileSync(join(srcDir, 'subjects.ts'), 'utf8');
  const block = text.slice(text.indexOf('export const Buckets'));
  const out: Record<string, string> = { ...bucketKeys };
  for (const m of block.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+):/g)) out[m[2]!] = cleanComment(`/**${m[1]}*/`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(eventsDocPath, renderEventsDoc());
  console.log(`wrote ${eventsDocPath}`);
}
