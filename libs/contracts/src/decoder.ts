import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ContractError, ContractErrorCode } from './errors.ts';

/**
 * A compiled validator for a command payload, a reply or a KV value: returns the value typed,
 * or throws a ContractError (`TF_ERR_CONTRACT_SCHEMA`), or what `refuse` makes of the message,
 * naming `what` and the first bad path.
 * Compile once at module load; the returned function runs on the hot path.
 */
export function decoder<S extends TSchema>(
  schema: S,
  what: string,
  refuse: (message: string) => Error = (message) => new ContractError(ContractErrorCode.Schema, message),
): (value: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value as Static<S>;
    const e = check.Errors(value).First();
    throw refuse(`invalid ${what} at ${e?.path || '/'}: ${e?.message ?? 'invalid'}`);
  };
}
