/**
 * NATS least privilege: one NATS user per service, with publish and subscribe allow lists built
 * from {@link Commands}, {@link Streams}, {@link Buckets} and the event catalog, and a generator for
 * the nats-server configuration (`tf up`, docker-compose, infra/nats/nats-server.conf).
 *
 * Three rules hold the design together:
 * - every user has its own inbox prefix (`_INBOX.<user>`), so no service can read replies sent
 *   to another (clients must connect with `inboxPrefix: inboxPrefixFor(user)`);
 * - services answer requests through `allow_responses` (one reply per request), never by a
 *   publish permission on someone else's inbox;
 * - only the policy and approval services may publish `tf.cmd.vault.release`, and only the vault
 *   may subscribe to `tf.cmd.vault.>`.
 */
import { eventCatalog, type EventType } from './catalog.ts';
import { Buckets, Commands, Consumers, ControlSubjects, EventSubjects, Streams } from './subjects.ts';

/** Every NATS user TameFlare configures. */
export const natsUsers = ['ingress', 'policy', 'vault', 'approval', 'control', 'recorder', 'projector', 'audit-api', 'admin', 'external'] as const;
export type NatsUser = (typeof natsUsers)[number];

/** Allow and deny lists of subjects (NATS wildcards `*` and `>`). Deny wins over allow. */
export interface SubjectRule {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** What one NATS user may do. */
export interface NatsUserPermissions {
  readonly user: NatsUser;
  readonly description: string;
  /** The prefix of this user's reply inboxes; pass it as `inboxPrefix` when connecting. */
  readonly inboxPrefix: string;
  readonly publish: SubjectRule;
  readonly subscribe: SubjectRule;
  /** May answer each request it received once (nats-server `allow_responses`). */
  readonly allowResponses: boolean;
}

/** The inbox prefix a user's connection must use (`_INBOX.<user>`). */
export function inboxPrefixFor(user: NatsUser): string {
  return `_INBOX.${user}`;
}

/** The subject pattern of an event type for any gateway, e.g. `tf.evt.action.decided.*`. */
export function eventSubjectPattern(type: EventType): string {
  return (eventCatalog[type].subject as (d: unknown) => string)({ gatewayId: '*' });
}

const API = '$JS.API';
const EVENTS = Streams.events.name;

/** Reading a KV bucket: get (direct or not), watch (ordered push consumer with flow control). */
function kvRead(bucket: string): string[] {
  const s = `KV_${bucket}`;
  return [
    `${API}.STREAM.INFO.${s}`,
    `${API}.DIRECT.GET.${s}`,
    `${API}.DIRECT.GET.${s}.>`,
    `${API}.STREAM.MSG.GET.${s}`,
    `${API}.CONSUMER.CREATE.${s}`,
    `${API}.CONSUMER.CREATE.${s}.>`,
    `${API}.CONSUMER.INFO.${s}.*`,
    `${API}.CONSUMER.DELETE.${s}.*`,
    `$JS.FC.${s}.>`,
  ];
}

/** Writing a KV bucket: reading, putting and deleting keys, and creating the bucket if it is missing. */
function kvWrite(bucket: string): string[] {
  return [...kvRead(bucket), `$KV.${bucket}.>`, `${API}.STREAM.CREATE.KV_${bucket}`];
}

/**
 * Creating TF_EVENTS if it is missing and reading its info. Never `STREAM.UPDATE` or `DELETE`:
 * a producer must not be able to shrink retention or drop events.
 */
const ensureEvents = [`${API}.STREAM.INFO.${EVENTS}`, `${API}.STREAM.CREATE.${EVENTS}`];

/** Pulling from one durable consumer of a stream and acknowledging its messages. */
function durableConsumer(c: { stream: string; durable: string }): string[] {
  return [
    `${API}.STREAM.INFO.${c.stream}`,
    `${API}.CONSUMER.INFO.${c.stream}.${c.durable}`,
    `${API}.CONSUMER.CREATE.${c.stream}.${c.durable}`,
    `${API}.CONSUMER.CREATE.${c.stream}.${c.durable}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${c.stream}.${c.durable}`,
    `${API}.CONSUMER.MSG.NEXT.${c.stream}.${c.durable}`,
    `$JS.ACK.${c.stream}.${c.durable}.>`,
    `$JS.FC.${c.stream}.>`,
  ];
}

/**
 * Consumers of TF_EVENTS limited to `filters`: the consumer-create subject carries the filter
 * (nats-server 2.9+ checks it against the consumer config), so such a user cannot create a
 * consumer that reads other events. The service durables are denied by name.
 */
function filteredEventConsumers(filters: readonly string[]): { allow: string[]; deny: string[] } {
  const allow = [
    `${API}.STREAM.INFO.${EVENTS}`,
    ...filters.map((f) => `${API}.CONSUMER.CREATE.${EVENTS}.*.${f}`),
    `${API}.CONSUMER.INFO.${EVENTS}.*`,
    `${API}.CONSUMER.DELETE.${EVENTS}.*`,
    `${API}.CONSUMER.MSG.NEXT.${EVENTS}.*`,
    `$JS.ACK.${EVENTS}.>`,
    `$JS.FC.${EVENTS}.>`,
  ];
  const deny = Object.values(Consumers).flatMap((c) => [
    `${API}.CONSUMER.CREATE.${c.stream}.${c.durable}.>`,
    `${API}.CONSUMER.INFO.${c.stream}.${c.durable}`,
    `${API}.CONSUMER.DELETE.${c.stream}.${c.durable}`,
    `${API}.CONSUMER.MSG.NEXT.${c.stream}.${c.durable}`,
    `$JS.ACK.${c.stream}.${c.durable}.>`,
  ]);
  return { allow, deny };
}

const evt = eventSubjectPattern;
const cmd = (...names: (keyof typeof Commands)[]) => names.map((n) => Commands[n].subject);
/** `tf.cmd.<area>.>` for a service's own command area. */
const area = (subject: string) => subject.split('.').slice(0, 3).join('.') + '.>';

function user(
  name: NatsUser,
  description: string,
  p: { pub?: string[]; pubDeny?: string[]; sub?: string[]; subDeny?: string[]; responses?: boolean },
): NatsUserPermissions {
  const inbox = inboxPrefixFor(name);
  return {
    user: name,
    description,
    inboxPrefix: inbox,
    // Every user may read its account's JetStream limits (jetstreamManager checks them) and nothing else by default.
    publish: { allow: dedupe([`${API}.INFO`, ...(p.pub ?? [])]), deny: dedupe(p.pubDeny ?? []) },
    subscribe: { allow: dedupe([`${inbox}.>`, ...(p.sub ?? [])]), deny: dedupe(p.subDeny ?? []) },
    allowResponses: p.responses ?? false,
  };
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

const vaultRelease = Commands.vaultRelease.subject;
const vaultArea = area(vaultRelease);
const approvalEvents = EventSubjects.approvals;
const external = filteredEventConsumers([approvalEvents, EventSubjects.decisions]);

/**
 * The permission matrix. Anything not allowed is refused by nats-server; the deny lists repeat
 * the most important refusals so that a later, broader allow cannot open them by accident.
 */
export const natsPermissions: Readonly<Record<NatsUser, NatsUserPermissions>> = {
  ingress: user('ingress', 'Agent-facing proxy. Asks for decisions, records what it forwarded; never asks the vault.', {
    pub: [
      ...cmd('policyDecide', 'approvalStatus', 'approvalClaim'),
      ControlSubjects.killSwitchAck,
      evt('ActionRequested'),
      evt('ActionCompleted'),
      // Kill-switch and egress-guard denials are decided by the ingress itself (residual risk in docs/vault.md).
      evt('ActionDecided'),
      ...ensureEvents,
      ...kvRead(Buckets.runs),
      ...kvRead(Buckets.killSwitch),
      ...kvRead(Buckets.connectors),
      ...kvRead(Buckets.gateways),
      ...kvWrite(Buckets.instances),
    ],
    pubDeny: [vaultArea, evt('CredentialReleased')],
    sub: [approvalEvents, EventSubjects.killSwitch, 'tf.ctl.>'],
    subDeny: ['tf.cmd.>'],
  }),
  policy: user('policy', 'Decides actions; asks the vault to release credentials for allowed ones.', {
    pub: [
      vaultRelease,
      ...cmd('approvalOpen'),
      evt('ActionDecided'),
      ...ensureEvents,
      ...kvWrite(Buckets.policy),
      ...kvWrite(Buckets.sessions),
      ...kvRead(Buckets.connectors),
      ...kvRead(Buckets.gateways),
      ...kvRead(Buckets.killSwitch),
    ],
    sub: [area(Commands.policyDecide.subject)],
    subDeny: [vaultArea],
    responses: true,
  }),
  vault: user('vault', 'Holds the secrets. Replies to its commands and records CredentialReleased; publishes nothing else.', {
    pub: [evt('CredentialReleased'), ...ensureEvents],
    sub: [vaultArea],
    responses: true,
  }),
  approval: user('approval', 'Approvals; releases the credential of a granted request once, through the vault.', {
    pub: [vaultRelease, approvalEvents, ...ensureEvents, ...kvWrite(Buckets.approvalSlots), ...kvRead(Buckets.killSwitch), ...kvRead(Buckets.connectors), ...kvRead(Buckets.gateways), ...durableConsumer(Consumers.approvalNotifier)],
    sub: [area(Commands.approvalOpen.subject), EventSubjects.killSwitch],
    subDeny: [vaultArea],
    responses: true,
  }),
  control: user('control', 'Runs, gateways, connectors, API tokens, kill switch.', {
    pub: [
      ...kvWrite(Buckets.killSwitch),
      ...kvWrite(Buckets.runs),
      ...kvWrite(Buckets.gateways),
      ...kvWrite(Buckets.connectors),
      ...kvWrite(Buckets.apiTokens),
      ...kvRead(Buckets.instances),
    ],
    pubDeny: [vaultRelease],
    sub: [area(Commands.runStart.subject), ControlSubjects.killSwitchAck],
    subDeny: [vaultArea],
    responses: true,
  }),
  recorder: user('recorder', 'Appends request-path events to the event store and relays the others to TF_EVENTS.', {
    pub: [EventSubjects.all, ...ensureEvents, ...durableConsumer(Consumers.recorder)],
    // It relays control-plane events only: it cannot forge a decision or a release.
    pubDeny: [EventSubjects.actions, vaultArea],
    subDeny: [vaultArea],
  }),
  projector: user('projector', 'Projects the event store into read models; listens to events only to wake up.', {
    sub: [EventSubjects.all],
    subDeny: [vaultArea],
  }),
  'audit-api': user('audit-api', 'GraphQL: mutations become commands, subscriptions read events. Never a credential release.', {
    pub: [
      ...cmd('approvalVote', 'approvalStatus', 'policyPublish'),
      area(Commands.runStart.subject),
      vaultArea,
      ...kvRead(Buckets.killSwitch),
      ...kvRead(Buckets.apiTokens),
      ...kvRead(Buckets.gateways),
      ...kvRead(Buckets.instances),
      ...kvRead(Buckets.connectors),
      ...kvRead(Buckets.policy),
    ],
    pubDeny: [vaultRelease],
    sub: [EventSubjects.all],
    subDeny: [vaultArea],
  }),
  admin: user('admin', 'Operators, `tf up` and the CLI: everything, except asking the vault for a credential.', {
    pub: ['>'],
    pubDeny: [vaultRelease],
    sub: ['>'],
    responses: true,
  }),
  external: user('external', 'Other tools (Slack bots, SIEM): read-only approval and decision events, live or through JetStream consumers.', {
    pub: external.allow,
    pubDeny: [...external.deny, 'tf.>', '$KV.>'],
    sub: [approvalEvents, EventSubjects.decisions],
    subDeny: ['tf.cmd.>', 'tf.ctl.>'],
  }),
};

/** Options for {@link natsAuthorizationConfig}. */
export interface NatsAuthorizationOptions {
  /**
   * Password per user, or `'env'` to reference the environment variable
   * {@link natsPasswordEnv}(user) so the file itself holds no secret.
   */
  passwords: Partial<Record<NatsUser, string>> | 'env';
  /** Users to include (default: all). */
  users?: readonly NatsUser[];
}

/** The environment variable a generated config reads a user's password from: `TF_NATS_PASSWORD_AUDIT_API`. */
export function natsPasswordEnv(user: NatsUser): string {
  return `TF_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

const PASSWORD = /^[A-Za-z0-9._~+/=-]{16,200}$/;
const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[], indent: string) => `[\n${xs.map((x) => `${indent}  ${q(x)}`).join('\n')}\n${indent}]`;

/**
 * The `authorization { users = [...] }` block of a nats-server configuration for the matrix.
 *
 * @throws Error when a password is missing or has characters outside `[A-Za-z0-9._~+/=-]`, or is
 * shorter than 16 characters: a weak or unquotable password never reaches the file.
 */
export function natsAuthorizationConfig(options: NatsAuthorizationOptions): string {
  const users = options.users ?? natsUsers;
  const entries = users.map((u) => {
    const p = natsPermissions[u];
    let password: string;
    if (options.passwords === 'env') password = `$${natsPasswordEnv(u)}`;
    else {
      const pw = options.passwords[u];
      if (pw === undefined || !PASSWORD.test(pw)) {
        throw new Error(`NATS password for user ${u} is missing or invalid (16-200 chars of [A-Za-z0-9._~+/=-])`);
      }
      password = q(pw);
    }
    const i = '          ';
    const rule = (r: SubjectRule) => `{\n${i}allow: ${list(r.allow, i)}${r.deny.length ? `\n${i}deny: ${list(r.deny, i)}` : ''}\n        }`;
    return [
      `    # ${u}: ${p.description}`,
      `    {`,
      `      user: ${q(u)}`,
      `      password: ${password}`,
      `      permissions: {`,
      `        publish: ${rule(p.publish)}`,
      `        subscribe: ${rule(p.subscribe)}`,
      ...(p.allowResponses ? [`        allow_responses: { max: 1, expires: "1m" }`] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return `authorization {\n  users = [\n${entries.join('\n')}\n  ]\n}\n`;
}

/** Options for {@link natsServerConfig}. */
export interface NatsServerConfigOptions extends NatsAuthorizationOptions {
  /** `host:port` to listen on (default `0.0.0.0:4222`). */
  listen?: string;
  serverName?: string;
  /** JetStream file store directory (default `/data/jetstream`). */
  storeDir?: string;
  /** HTTP monitoring port, or null for none (default 8222). */
  monitorPort?: number | null;
}

/** A complete nats-server configuration: listener, JetStream, and the authorization block. */
export function natsServerConfig(options: NatsServerConfigOptions): string {
  const lines = [
    '# Generated from libs/contracts/src/permissions.ts by infra/nats/generate.ts. Do not edit by hand.',
    `listen: ${q(options.listen ?? '0.0.0.0:4222')}`,
    `server_name: ${q(options.serverName ?? 'tameflare')}`,
    ...(options.monitorPort === null ? [] : [`http_port: ${options.monitorPort ?? 8222}`]),
    `jetstream { store_dir: ${q(options.storeDir ?? '/data/jetstream')} }`,
    '',
  ];
  return lines.join('\n') + natsAuthorizationConfig(options);
}
