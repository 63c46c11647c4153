import type { Risk } from '@tameflare/contracts';
import type { Classification, ClassifyInput } from './types.ts';

/** Version recorded on actions classified by {@link genericClassify}. */
export const GENERIC_CLASSIFIER_VERSION = 'generic-1';

const RISK: Record<string, Risk> = { GET: 'read', HEAD: 'read', OPTIONS: 'read', DELETE: 'destructive' };

/**
 * The fallback classification: `http.<method>` on the route's connector, with the host and
 * path as the resource. Used for destinations that no connector describes in detail, and by
 * the ingress until the connectors library classifies.
 */
export function genericClassify(input: ClassifyInput): Classification {
  const method = input.method.toLowerCase();
  return {
    action: {
      type: `http.${method}`,
      connector: input.route.connector,
      resource: `${input.url.host}${input.url.pathname}`.slice(0, 500),
      params: {},
      risk: RISK[input.method] ?? 'write',
      notes: input.bodyTruncated ? ['body_over_limit'] : [],
    },
    classifierVersion: GENERIC_CLASSIFIER_VERSION,
  };
}
