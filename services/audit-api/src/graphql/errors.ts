import { GraphQLError } from './graphql-runtime.ts';
import { maskError as defaultMaskError } from 'graphql-yoga';
import { isAuditInputError } from '@tameflare/audit';
import { isTameFlareError } from '@tameflare/contracts';
import { isMessagingError, isRemoteError, MessagingErrorCode } from '@tameflare/messaging';

const UNAVAILABLE = new Set<string>([MessagingErrorCode.Timeout, MessagingErrorCode.NoResponders, MessagingErrorCode.Unavailable, MessagingErrorCode.Closed]);

/**
 * What a client sees of an error. Bad input (filters, cursors, a refused vote or an invalid
 * policy) is shown as it is, with its `TF_ERR_*` code; an unreachable service is named without
 * internals; anything else is masked as "Unexpected error." (and logged by Yoga).
 */
export function toClientError(error: unknown, message: string, isDev?: boolean): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const path = error instanceof GraphQLError ? error.path : undefined;
  if (isAuditInputError(original)) {
    return new GraphQLError(original.message, { path, extensions: { code: 'BAD_USER_INPUT', tfCode: original.code } });
  }
  if (isRemoteError(original)) {
    return new GraphQLError(original.message, { path, extensions: { code: 'COMMAND_REFUSED', tfCode: original.code } });
  }
  if (isMessagingError(original) && UNAVAILABLE.has(original.code)) {
    return new GraphQLError(`the service behind this operation is unavailable right now (${original.code}); nothing was changed`, {
      path,
      extensions: { code: 'SERVICE_UNAVAILABLE', tfCode: original.code },
    });
  }
  if (isTameFlareError(original, 'TF_ERR_POLICY_INVALID')) {
    return new GraphQLError(original.message, { path, extensions: { code: 'BAD_USER_INPUT', tfCode: original.code, issues: (original.details as { issues?: unknown })?.issues } });
  }
  return defaultMaskError(error, message, isDev);
}
