import {
  Buckets,
  Commands,
  isTameFlareError,
  type ApprovalClaimReply,
  type ApprovalClaimRequest,
  type SealedCredential,
  type TameFlareEvent,
  type VaultReleaseRequest,
} from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError, type ApprovalState, type OpenedApproval } from '@tameflare/approvals';
import type { Bus } from '@tameflare/messaging';
import { decodeConnector, decodeVaultRelease } from './payloads.ts';
import type { ApprovalRepository } from './repository.ts';
import type { Clock } from './types.ts';

export interface ClaimDeps {
  repo: ApprovalRepository;
  bus: Pick<Bus, 'request' | 'kv'>;
  clock: Clock;
  settled: (s: OpenedApproval) => Promise<void>;
  vaultTimeoutMs: number;
}

/**
 * `tf.cmd.approval.claim`: releases a granted approval exactly once. `ApprovalConsumed` is
 * appended with the stream version the grant was read at, so of two ingress replicas claiming
 * at once one wins and the other gets `TF_ERR_APPROVAL_ALREADY_CONSUMED`. Only then is the
 * connector's credential released by the vault, sealed to the winning ingress. A claim repeated
 * by the same ingress for the same action (its reply was lost) gets the credential again
 * without a second release of the request.
 */
export async function claimApproval(deps: ClaimDeps, p: ApprovalClaimRequest, traceparent?: string): Promise<ApprovalClaimReply> {
  const h = await deps.repo.handle(
    p.approvalId,
    () => ({
      type: 'ConsumeApproval',
      data: { releasedActionId: p.actionId, runId: p.runId, requestDigest: p.requestDigest, ingressId: p.ingress.id },
      now: deps.clock(),
    }),
    { causationId: p.actionId, traceparent },
  );
  let consumed: TameFlareEvent | undefined;
  if (h.decision.ok) consumed = h.appended.find((e) => e.type === 'ApprovalConsumed');
  else if (isRepeat(h.state, p)) consumed = h.recorded.find((e) => e.type === 'ApprovalConsumed');
  else throw h.decision.error;
  if (!consumed || !h.state.exists) throw approvalError(ApprovalErrorCode.Invalid, 'approval was not consumed');
  const [, credential] = await Promise.all([deps.settled(h.state), releaseCredential(deps, h.state, p, consumed.id)]);
  return { approvalId: p.approvalId, credential };
}

function isRepeat(st: ApprovalState, p: ApprovalClaimRequest): st is OpenedApproval {
  return (
    st.exists &&
    st.status === 'consumed' &&
    st.consumed?.releasedActionId === p.actionId &&
    st.consumed.ingressId === p.ingress.id &&
    st.request.requestDigest === p.requestDigest &&
    st.request.runId === p.runId
  );
}

async function releaseCredential(deps: ClaimDeps, s: OpenedApproval, p: ApprovalClaimRequest, authorizedBy: string): Promise<SealedCredential | null> {
  const r = s.request;
  const connectorId = r.request.action.connector;
  const kv = await deps.bus.kv(Buckets.connectors);
  const entry = await kv.get<unknown>(`${r.gatewayId}.${connectorId}`);
  if (!entry) return null;
  const connector = decodeConnector(entry.value);
  if (!connector.secretName || !connector.injection) return null;
  const req: VaultReleaseRequest = {
    actionId: p.actionId,
    runId: r.runId,
    agentId: r.agentId,
    gatewayId: r.gatewayId,
    connector: connectorId,
    secretName: connector.secretName,
    injection: connector.injection,
    approvalId: r.approvalId,
    authorizedBy,
    ingress: p.ingress,
  };
  try {
    const reply = decodeVaultRelease(await deps.bus.request(Commands.vaultRelease, req, { timeoutMs: deps.vaultTimeoutMs }));
    return reply.credential;
  } catch (err) {
    if (isTameFlareError(err) && !err.code.startsWith('TF_ERR_NATS_')) throw err;
    throw approvalError(ApprovalErrorCode.Unavailable, 'the vault did not release the credential; the claim can be repeated by the same ingress', {
      cause: err,
      details: { approvalId: r.approvalId },
    });
  }
}
