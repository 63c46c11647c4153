import { sql, type Kysely, type UpdateResult } from 'kysely';
import { killSwitchScopeKey, type TameFlareEvent } from '@tameflare/contracts';
import type { ReadModels } from '../db/connect.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';

function mustHit(result: UpdateResult | readonly UpdateResult[], event: TameFlareEvent, what: string): void {
  const r = Array.isArray(result) ? result[0] : result;
  if (!r || r.numUpdatedRows === 0n) {
    throw new AuditError(AuditErrorCode.Projection, `cannot apply event ${event.id} (${event.type}): ${what}`, {
      details: { eventId: event.id, eventType: event.type },
    });
  }
}

/**
 * Applies one low-rate event (approvals, kill switch, policy, gateways, connectors, runs, tokens,
 * secrets) to the read models in `db` (already scoped to the target schema). Events that refer to
 * something the history never created (a vote on an approval that was never requested) cannot be
 * applied: the projection stops on them rather than invent the missing row.
 */
export async function applyOrdered(db: Kysely<ReadModels>, e: TameFlareEvent): Promise<void> {
  switch (e.type) {
    case 'ApprovalRequested': {
      const d = e.data;
      await db
        .insertInto('approvals')
        .values({
          approval_id: d.approvalId,
          action_id: d.actionId,
          gateway_id: d.gatewayId,
          agent_id: d.agentId,
          agent_name: d.agentName,
          run_id: d.runId,
          request_digest: d.requestDigest,
          method: d.request.method,
          url: d.request.url,
          action: JSON.stringify(d.request.action),
          action_type: d.request.action.type,
          body_digest: d.request.bodyDigest,
          rule_id: d.ruleId,
          reason: d.reason,
          approver_roles: d.approverRoles,
          quorum: d.quorum,
          timeout_ms: d.timeoutMs,
          expires_at: d.expiresAt,
          requested_at: e.time,
          status: 'pending',
          approvers: [],
          updated_at: e.time,
        })
        .execute();
      return;
    }
    case 'ApprovalVoteRecorded':
    case 'ApprovalVoteRefused': {
      const d = e.data;
      mustHit(await db.updateTable('approvals').set({ updated_at: e.time }).where('approval_id', '=', d.approvalId).execute(), e, `approval ${d.approvalId} was never requested`);
      await db
        .insertInto('approval_votes')
        .values({
          event_id: e.id,
          approval_id: d.approvalId,
          voter: d.voter,
          voter_role: e.type === 'ApprovalVoteRecorded' ? e.data.voterRole : null,
          vote: e.type === 'ApprovalVoteRecorded' ? e.data.vote : null,
          comment: e.type === 'ApprovalVoteRecorded' ? e.data.comment : null,
          channel: d.channel,
          outcome: e.type === 'ApprovalVoteRecorded' ? 'recorded' : 'refused',
          refusal_reason: e.type === 'ApprovalVoteRefused' ? e.data.reason : null,
          voted_at: e.time,
        })
        .execute();
      return;
    }
    case 'ApprovalGranted':
      mustHit(
        await db
          .updateTable('approvals')
          .set({ status: 'granted', approvers: e.data.approvers, decided_at: e.time, updated_at: e.time })
          .where('approval_id', '=', e.data.approvalId)
          .execute(),
        e,
        `approval ${e.data.approvalId} was never requested`,
      );
      return;
    case 'ApprovalDenied':
      mustHit(
        await db
          .updateTable('approvals')
          .set({
            status: 'denied',
            denied_by: e.data.deniedBy,
            deny_reason: e.data.reason,
            deny_cause: e.data.cause,
            kill_switch_id: e.data.killSwitchId,
            decided_at: e.time,
            updated_at: e.time,
          })
          .where('approval_id', '=', e.data.approvalId)
          .execute(),
        e,
        `approval ${e.data.approvalId} was never requested`,
      );
      return;
    case 'ApprovalExpired':
      mustHit(
        await db
          .updateTable('approvals')
          .set({ status: 'expired', expired_at: e.data.expiredAt, decided_at: e.time, updated_at: e.time })
          .where('approval_id', '=', e.data.approvalId)
          .execute(),
        e,
        `approval ${e.data.approvalId} was never requested`,
      );
      return;
    case 'ApprovalCancelled':
      mustHit(
        await db
          .updateTable('approvals')
          .set({ status: 'cancelled', cancel_reason: e.data.reason, decided_at: e.time, updated_at: e.time })
          .where('approval_id', '=', e.data.approvalId)
          .execute(),
        e,
        `approval ${e.data.approvalId} was never requested`,
      );
      return;
    case 'ApprovalConsumed':
      mustHit(
        await db
          .updateTable('approvals')
          .set({ status: 'consumed', consumed_at: e.time, released_action_id: e.data.releasedActionId, consumed_by_ingress: e.data.ingressId, updated_at: e.time })
          .where('approval_id', '=', e.data.approvalId)
          .execute(),
        e,
        `approval ${e.data.approvalId} was never requested`,
      );
      return;
    case 'KillSwitchEngaged':
    case 'KillSwitchReleased': {
      const d = e.data;
      await db
        .insertInto('kill_switch_changes')
        .values({
          event_id: e.id,
          kill_switch_id: d.killSwitchId,
          state: e.type === 'KillSwitchEngaged' ? 'engaged' : 'released',
          scope_kind: d.scope.kind,
          scope_value: d.scope.kind === 'all' ? null : d.scope.value,
          scope_key: killSwitchScopeKey(d.scope),
          reason: e.type === 'KillSwitchEngaged' ? e.data.reason : null,
          actor: e.type === 'KillSwitchEngaged' ? e.data.engagedBy : e.data.releasedBy,
          changed_at: e.time,
        })
        .execute();
      return;
    }
    case 'KillSwitchAcknowledged': {
      const d = e.data;
      const row = { latency_ms: d.latencyMs, cut_connections: d.cutConnections, acknowledged_at: e.time, event_id: e.id };
      await db
        .insertInto('kill_switch_acks')
        .values({ kill_switch_id: d.killSwitchId, state: d.state, ingress_id: d.ingressId, ...row })
        .onConflict((oc) => oc.columns(['kill_switch_id', 'state', 'ingress_id']).doUpdateSet(row))
        .execute();
      return;
    }
    case 'PolicyBundlePublished': {
      const d = e.data;
      await db
        .insertInto('policy_versions')
        .values({
          gateway_id: d.gatewayId,
          version: d.version,
          hash: d.hash,
          source: d.source,
          rule_count: d.ruleCount,
          published_by: d.publishedBy,
          published_at: e.time,
          event_id: e.id,
        })
        .execute();
      return;
    }
    case 'GatewayCreated': {
      const d = e.data;
      const row = { name: d.name, mode: d.mode, created_by: d.createdBy, created_at: e.time, mode_changed_by: null, mode_changed_at: null };
      await db
        .insertInto('gateways')
        .values({ gateway_id: d.gatewayId, ...row })
        .onConflict((oc) => oc.column('gateway_id').doUpdateSet(row))
        .execute();
      return;
    }
    case 'GatewayModeChanged':
      mustHit(
        await db
          .updateTable('gateways')
          .set({ mode: e.data.mode, mode_changed_by: e.data.changedBy, mode_changed_at: e.time })
          .where('gateway_id', '=', e.data.gatewayId)
          .execute(),
        e,
        `gateway ${e.data.gatewayId} was never created`,
      );
      return;
    case 'ConnectorConfigured': {
      const d = e.data;
      const row = {
        kind: d.kind,
        secret_name: d.secretName,
        injection: d.injection === null ? null : JSON.stringify(d.injection),
        domains: d.domains,
        options: JSON.stringify(d.options),
        configured_by: d.configuredBy,
        configured_at: e.time,
        removed_by: null,
        removed_at: null,
      };
      await db
        .insertInto('connectors')
        .values({ gateway_id: d.gatewayId, connector_id: d.connectorId, ...row })
        .onConflict((oc) => oc.columns(['gateway_id', 'connector_id']).doUpdateSet(row))
        .execute();
      return;
    }
    case 'ConnectorRemoved':
      mustHit(
        await db
          .updateTable('connectors')
          .set({ removed_by: e.data.removedBy, removed_at: e.time })
          .where('gateway_id', '=', e.data.gatewayId)
          .where('connector_id', '=', e.data.connectorId)
          .execute(),
        e,
        `connector ${e.data.gatewayId}/${e.data.connectorId} was never configured`,
      );
      return;
    case 'AgentRunStarted': {
      const d = e.data;
      const start = {
        agent_name: d.agentName,
        command: d.command,
        hostname: d.hostname,
        pid: d.pid,
        started_by: d.startedBy,
        started_at: e.time,
      };
      await db
        .insertInto('agent_runs')
        .values({ run_id: d.runId, agent_id: d.agentId, gateway_id: d.gatewayId, ...start })
        .onConflict((oc) => oc.column('run_id').doUpdateSet(start))
        .execute();
      await db
        .insertInto('agents')
        .values({ agent_id: d.agentId, agent_name: d.agentName, first_seen_at: e.time, last_seen_at: e.time, runs_total: 1, actions_total: 0 })
        .onConflict((oc) =>
          oc.column('agent_id').doUpdateSet({
            agent_name: d.agentName,
            first_seen_at: sql`LEAST(agents.first_seen_at, EXCLUDED.first_seen_at)`,
            last_seen_at: sql`GREATEST(agents.last_seen_at, EXCLUDED.last_seen_at)`,
            runs_total: sql`agents.runs_total + 1`,
          }),
        )
        .execute();
      return;
    }
    case 'AgentRunEnded': {
      const d = e.data;
      const end = { ended_at: e.time, exit_code: d.exitCode, signal: d.signal, duration_ms: d.durationMs };
      await db
        .insertInto('agent_runs')
        .values({ run_id: d.runId, agent_id: d.agentId, gateway_id: d.gatewayId, ...end })
        .onConflict((oc) => oc.column('run_id').doUpdateSet(end))
        .execute();
      return;
    }
    case 'ApiTokenIssued': {
      const d = e.data;
      await db
        .insertInto('api_tokens')
        .values({ token_id: d.tokenId, name: d.name, role: d.role, issued_by: d.issuedBy, issued_at: e.time })
        .execute();
      return;
    }
    case 'ApiTokenRevoked':
      mustHit(
        await db.updateTable('api_tokens').set({ revoked_by: e.data.revokedBy, revoked_at: e.time }).where('token_id', '=', e.data.tokenId).execute(),
        e,
        `API token ${e.data.tokenId} was never issued`,
      );
      return;
    case 'SecretStored': {
      const d = e.data;
      const row = {
        secret_id: d.secretId,
        version: d.version,
        byte_length: d.byteLength,
        source: d.source,
        master_key_id: d.masterKeyId,
        stored_by: d.storedBy,
        stored_at: e.time,
        rotated_by: null,
        rotated_at: null,
        revoked_by: null,
        revoked_at: null,
      };
      await db
        .insertInto('secrets')
        .values({ gateway_id: d.gatewayId, name: d.name, ...row })
        .onConflict((oc) => oc.columns(['gateway_id', 'name']).doUpdateSet(row))
        .execute();
      return;
    }
    case 'SecretRotated':
      mustHit(
        await db
          .updateTable('secrets')
          .set({
            secret_id: e.data.secretId,
            version: e.data.version,
            byte_length: e.data.byteLength,
            source: e.data.source,
            master_key_id: e.data.masterKeyId,
            rotated_by: e.data.rotatedBy,
            rotated_at: e.time,
          })
          .where('gateway_id', '=', e.data.gatewayId)
          .where('name', '=', e.data.name)
          .execute(),
        e,
        `secret ${e.data.gatewayId}/${e.data.name} was never stored`,
      );
      return;
    case 'SecretRevoked':
      mustHit(
        await db
          .updateTable('secrets')
          .set({ revoked_by: e.data.revokedBy, revoked_at: e.time })
          .where('gateway_id', '=', e.data.gatewayId)
          .where('name', '=', e.data.name)
          .execute(),
        e,
        `secret ${e.data.gatewayId}/${e.data.name} was never stored`,
      );
      return;
    case 'MasterKeyRotated':
      // Re-wrapping data keys changes no secret's metadata that the read models show.
      return;
    case 'ActionRequested':
    case 'ActionDecided':
    case 'CredentialReleased':
    case 'ActionCompleted':
      throw new AuditError(AuditErrorCode.Projection, `${e.type} is a batched event and cannot be applied one by one`);
  }
}
