import { decoder, Buckets, ConnectorEntrySchema, type ConnectorEntry } from '@tameflare/contracts';
import { createClassifier, type Classifier } from '@tameflare/connectors';
import type { Bus, KvWatch } from '@tameflare/messaging';
import type { Classification, ClassifyInput, Identity, Route, Target } from '@tameflare/proxy';

const decodeConnector = decoder(ConnectorEntrySchema, 'a tf_connectors entry');

/** Which connector serves a destination, and what an request to it is, per gateway. */
export interface ConnectorRoutes {
  route(target: Target, identity: Identity): Route | null;
  classify(input: ClassifyInput): Classification;
  /** Connectors enabled on `gatewayId`. */
  connectors(gatewayId: string): ConnectorEntry[];
  stop(): Promise<void>;
}

interface GatewayClassifier {
  classifier: Classifier | null;
  error: string | null;
}

/**
 * Keeps KV `tf_connectors` (`<gateway>.<connector>`) in memory and builds one classifier per
 * gateway from it (libs/connectors: built-in connector kinds, their domains and route tables).
 * A gateway whose connector set cannot be compiled routes nothing, so everything it would have
 * served is denied by the egress guard rather than classified wrongly.
 */
export async function startConnectorRoutes(
  bus: Bus,
  options: { bodyParseLimit: number; onError?: (gatewayId: string, err: unknown) => void; onInvalid?: (key: string, err: unknown) => void },
): Promise<ConnectorRoutes> {
  const byGateway = new Map<string, Map<string, ConnectorEntry>>();
  const compiled = new Map<string, GatewayClassifier>();
  const watch: KvWatch<ConnectorEntry> = await bus.watchKv<ConnectorEntry>(Buckets.connectors, {
    decode: (v) => decodeConnector(v),
    onInvalid: (err, key) => options.onInvalid?.(key, err),
    onChange: (c) => {
      const dot = c.key.indexOf('.');
      const gatewayId = c.op === 'put' ? c.value.gatewayId : c.key.slice(0, dot);
      const connectorId = c.op === 'put' ? c.value.connectorId : c.key.slice(dot + 1);
      let g = byGateway.get(gatewayId);
      if (c.op === 'put') {
        if (!g) byGateway.set(gatewayId, (g = new Map()));
        g.set(connectorId, c.value);
      } else {
        g?.delete(connectorId);
      }
      compiled.delete(gatewayId);
    },
  });
  await watch.ready;

  const classifierFor = (gatewayId: string): Classifier | null => {
    let c = compiled.get(gatewayId);
    if (!c) {
      const entries = [...(byGateway.get(gatewayId)?.values() ?? [])];
      try {
        c = { classifier: createClassifier({ connectors: entries, bodyParseLimit: options.bodyParseLimit }), error: null };
      } catch (err) {
        options.onError?.(gatewayId, err);
        c = { classifier: null, error: (err as Error).message };
      }
      compiled.set(gatewayId, c);
    }
    return c.classifier;
  };

  return {
    route(target, identity) {
      const info = classifierFor(identity.gatewayId)?.connectorFor(target.host, target.port);
      if (!info) return null;
      return { connector: info.id, intercept: info.intercept, injection: info.injection };
    },
    classify(input) {
      const classifier = classifierFor(input.identity.gatewayId)!;
      // Classify exactly the path that is forwarded, not a normalized one.
      const pq = input.pathAndQuery;
      const q = pq.indexOf('?');
      const action = classifier.classify({
        host: input.url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(input.url.port || (input.url.protocol === 'https:' ? 443 : 80)),
        method: input.method,
        path: q < 0 ? pq || '/' : pq.slice(0, q),
        query: q < 0 ? '' : pq.slice(q + 1),
        headers: input.headers as Record<string, string | string[] | undefined>,
        body: input.body,
        bodyTruncated: input.bodyTruncated,
      });
      return { action, classifierVersion: classifier.version };
    },
    connectors: (gatewayId) => [...(byGateway.get(gatewayId)?.values() ?? [])],
    stop: () => watch.stop(),
  };
}
