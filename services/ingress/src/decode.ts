import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import { ContractError, ContractErrorCode } from '@tameflare/contracts';

/** A compiled validator: returns the value typed, or throws a ContractError naming the first bad path. */
export function decoder<S extends TSchema>(schema: S, what: string): (value: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value as Static<S>;
    const e = check.Errors(value).First();
    throw new ContractError(ContractErrorCode.Schema, `${what} is malformed at ${e?.path || '/'}: ${e?.message ?? 'invalid'}`);
  };
}
