import type { Action, Risk } from '@tameflare/contracts';
import { headerValue } from '../http/body.ts';
import type { RequestContext } from '../context.ts';
import type { GeneratedTables } from '../generated-tables.ts';
import { riskOfMethod, wordsOf } from '../risk.ts';
import type { RouteTrie } from '../router/route-trie.ts';
import { classifyRest, type RestRoute } from './rest.ts';
import { compileSdkTable } from './sdk-table.ts';

/** Stripe verbs that end or undo something that cannot simply be recreated. */
const DESTRUCTIVE = new Set(['del', 'delete', 'cancel', 'close', 'void', 'reject', 'expire', 'detach', 'reverse', 'revoke', 'deactivate', 'uncollectible', 'terminate']);

function stripeRisk(method: string, sdkMethod: string): Risk {
  const risk = riskOfMethod(method);
  if (risk !== 'write') return risk;
  const verb = sdkMethod.split('.').pop() ?? '';
  return wordsOf(verb).some((w) => DESTRUCTIVE.has(w)) ? 'destructive' : 'write';
}

/** Form fields that hold amounts in the smallest currency unit, or counts: recorded as numbers. */
const NUMERIC = /(^|[._])(amount|quantity|percent_off|amount_off|unit_amount|application_fee_amount|application_fee_percent|trial_period_days)([._]|$)|_amount$/;

const RESOURCE_FIELDS = ['customer', 'charge', 'payment_intent', 'subscription', 'invoice', 'destination', 'account'];

export function stripeResource(p: Record<string, unknown>, route: RestRoute | null): string | null {
  if (route) {
    for (const k of ['id', 'customer', 'charge', 'accountId', 'account', 'subscription', 'invoice']) if (typeof p[k] === 'string' && /^[a-z]+_[A-Za-z0-9]/.test(p[k] as string)) return p[k] as string;
  }
  for (const k of RESOURCE_FIELDS) if (typeof p[k] === 'string') return p[k] as string;
  return null;
}

export interface StripeConnector {
  trie: RouteTrie<RestRoute>;
  classify(ctx: RequestContext, connector: string): Action;
}

/** Stripe: every method of the official SDK (generated from Stripe's OpenAPI description), form-encoded bodies with amounts as numbers. */
export function createStripe(tables: GeneratedTables): StripeConnector {
  const trie = compileSdkTable(tables.stripe.operations, { provider: 'stripe', risk: stripeRisk });
  return {
    trie,
    classify(ctx, connector) {
      const account = headerValue(ctx.input.headers, 'stripe-account');
      if (account) ctx.sink.add('stripe_account', account);
      return classifyRest(ctx, { connector, provider: 'stripe', trie, numeric: (n) => (n.includes('amount') || n.includes('quantity') || n.includes('percent') || n.includes('trial')) && NUMERIC.test(n), resourceOf: stripeResource });
    },
  };
}
