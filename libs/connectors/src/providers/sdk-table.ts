import type { Risk } from '@tameflare/contracts';
import type { SdkOperation } from '../generated-tables.ts';
import { riskOfMethod } from '../risk.ts';
import { compileRoutes, type RouteTrie } from '../router/route-trie.ts';
import type { RestRoute } from './rest.ts';

/** `paymentIntents` → `payment_intent`, `fineTuning` → `fine_tuning`, `boxes` → `box`. */
export function singular(word: string): string {
  const snake = snakeCase(word);
  if (/(ss|us|is)$/.test(snake)) return snake;
  if (snake.endsWith('ies')) return `${snake.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes)$/.test(snake)) return snake.slice(0, -2);
  if (snake.endsWith('s')) return snake.slice(0, -1);
  return snake;
}

export function snakeCase(word: string): string {
  return word.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** `refunds.create` → `stripe.refund.create`; `customers.createBalanceTransaction` → `stripe.customer.create_balance_transaction`. */
export function sdkActionType(provider: string, sdkMethod: string): string {
  const parts = sdkMethod.split('.');
  const verb = parts.pop()!;
  return [provider, ...parts.map(singular), verb === 'del' ? 'delete' : snakeCase(verb)].join('.');
}

export interface SdkTableOptions {
  provider: string;
  aliases?: Record<string, string>;
  risk?: (method: string, sdkMethod: string) => Risk;
}

export function compileSdkTable(ops: readonly SdkOperation[], o: SdkTableOptions): RouteTrie<RestRoute> {
  return compileRoutes(
    ops.map(([method, path, sdkMethod]) => ({
      method,
      path,
      route: { type: o.aliases?.[sdkMethod] ?? sdkActionType(o.provider, sdkMethod), operationId: sdkMethod, risk: o.risk?.(method, sdkMethod) ?? riskOfMethod(method) },
    })),
  );
}
