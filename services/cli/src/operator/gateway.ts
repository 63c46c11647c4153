import { Buckets, isValidName, type GatewayEntry } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { stringOpt } from '../args.ts';
import { usageError } from '../errors.ts';
import type { OptionSpec, ParsedArgs } from '../registry.ts';

/** `--gateway G`, shared by every command that acts on one gateway. */
export const GATEWAY_OPTION: OptionSpec = { type: 'string', valueName: 'G', description: 'the gateway (default "default")' };

/** The gateway named by `--gateway` (default `default`), checked to be a valid id. */
export function gatewayOf(args: ParsedArgs): string {
  const id = stringOpt(args, 'gateway') ?? 'default';
  if (!isValidName(id)) throw usageError(`invalid gateway id ${JSON.stringify(id)}: ids are lowercase letters, digits, - and _ (at most 63)`, 'tf up creates the gateway "default"');
  return id;
}

/**
 * Refuses a gateway the control service never created (KV `tf_gateways`), before anything is
 * written for it: a secret or policy stored under a typo would never be used.
 */
export async function requireGateway(bus: Bus, gatewayId: string): Promise<GatewayEntry> {
  const kv = await bus.kv(Buckets.gateways);
  const entry = await kv.get<GatewayEntry>(gatewayId);
  if (entry) return entry.value;
  const watch = await bus.watchKv<GatewayEntry>(Buckets.gateways);
  await watch.ready;
  const known = [...watch.values.keys()].sort();
  await watch.stop();
  throw usageError(
    `gateway "${gatewayId}" does not exist`,
    known.length ? `known gateways: ${known.join(', ')}` : 'tf up creates the gateway "default"',
  );
}
