import {
  createEvent,
  randomToken,
  sha256Hex,
  uuidv7,
  type ApiTokenEntry,
  type EventEnvelope,
  type TokenIssueReply,
  type TokenIssueRequest,
  type TokenRevokeReply,
  type TokenRevokeRequest,
} from '@tameflare/contracts';
import type { ControlDeps } from './deps.ts';
import { ControlErrorCode, controlError } from './errors.ts';
import { applyToKv } from './streams.ts';

export const tokenStream = (tokenId: string) => `api-token-${tokenId}`;

/**
 * Issues an API token for the audit API (`tfa_…`): records `ApiTokenIssued` with the token's
 * SHA-256, then puts KV `tf_api_tokens/<sha256>` with its role. The token is returned once.
 */
export async function issueToken(deps: ControlDeps, req: TokenIssueRequest, traceparent?: string): Promise<TokenIssueReply> {
  const tokenId = uuidv7();
  const token = randomToken('tfa');
  const tokenHash = sha256Hex(token);
  const event = createEvent('ApiTokenIssued', { tokenId, name: req.name, role: req.role, tokenHash, issuedBy: req.actor }, { correlationId: tokenId, source: deps.source, traceparent: traceparent ?? null });
  await deps.streams.append(tokenStream(tokenId), [event], 'no_stream');
  const entry: ApiTokenEntry = { tokenId, name: req.name, role: req.role, issuedAt: event.time };
  await applyToKv(`API token ${tokenId}`, () => deps.kv.apiTokens.put(tokenHash, entry));
  deps.log.info({ tokenId, role: req.role }, 'API token issued');
  return { tokenId, token, role: req.role };
}

/**
 * Revokes an API token: `ApiTokenRevoked`, then the KV delete (the audit API refuses it from then on).
 *
 * @throws `TF_ERR_CONTROL_UNKNOWN_TOKEN` when it was never issued or is already revoked.
 */
export async function revokeToken(deps: ControlDeps, req: TokenRevokeRequest, traceparent?: string): Promise<TokenRevokeReply> {
  const stream = tokenStream(req.tokenId);
  const state = await deps.streams.read(stream);
  const issued = state.events.find((e): e is EventEnvelope<'ApiTokenIssued'> => e.type === 'ApiTokenIssued');
  if (!issued) throw controlError(ControlErrorCode.UnknownToken, `API token ${req.tokenId} was never issued`, { details: { tokenId: req.tokenId } });
  if (state.events.some((e) => e.type === 'ApiTokenRevoked')) {
    await applyToKv(`API token ${req.tokenId}`, () => deps.kv.apiTokens.delete(issued.data.tokenHash));
    throw controlError(ControlErrorCode.UnknownToken, `API token ${req.tokenId} is already revoked`, { details: { tokenId: req.tokenId } });
  }
  const event = createEvent('ApiTokenRevoked', { tokenId: req.tokenId, revokedBy: req.actor }, { correlationId: req.tokenId, causationId: issued.id, source: deps.source, traceparent: traceparent ?? null });
  await deps.streams.append(stream, [event], state.version);
  await applyToKv(`API token ${req.tokenId}`, () => deps.kv.apiTokens.delete(issued.data.tokenHash));
  deps.log.info({ tokenId: req.tokenId }, 'API token revoked');
  return { tokenId: req.tokenId, name: issued.data.name, role: issued.data.role, revoked: true };
}
