import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Buckets, Commands, type GatewayReply, type PublishPolicyReply, type TokenIssueReply } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { StackError, StackErrorCode } from './errors.ts';
import { readPrivateFile, writePrivateFile, type StatePaths } from './state-dir.ts';

/** What first-start setup did. */
export interface BootstrapResult {
  gatewayCreated: boolean;
  policyVersion: number | null;
  adminTokenIssued: boolean;
}

/**
 * First-start setup, safe to repeat at every start: the default gateway (control service), the
 * default policy when the gateway has none yet (policy service), and a bootstrap admin API token
 * for the audit API, issued through the control service (recorded as `ApiTokenIssued`) and kept
 * in `<state>/cli/admin-token` (0600).
 */
export async function bootstrapStack(o: { bus: Bus; paths: StatePaths; gatewayId: string; policyFile: string; actor: string }): Promise<BootstrapResult> {
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      throw new StackError(StackErrorCode.Bootstrap, `${what} failed: ${(cause as Error).message}`, { cause, hint: `see the logs in ${o.paths.logsDir}` });
    }
  };
  const gateway = await step('creating the default gateway', () =>
    o.bus.request<GatewayReply>(Commands.gatewayCreate, { gatewayId: o.gatewayId, mode: 'enforce', actor: o.actor }),
  );
  const policy = await step('reading the active policy', async () => (await o.bus.kv(Buckets.policy)).get(o.gatewayId));
  let policyVersion: number | null = null;
  if (!policy) {
    const source = readFileSync(o.policyFile, 'utf8');
    const published = await step(`applying ${basename(o.policyFile)}`, () =>
      o.bus.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId: o.gatewayId, source, fileName: basename(o.policyFile), publishedBy: o.actor }, { timeoutMs: 30_000 }),
    );
    policyVersion = published.version;
  }
  let adminTokenIssued = false;
  if (readPrivateFile(o.paths.adminToken) === null) {
    const issued = await step('issuing the bootstrap admin API token', () =>
      o.bus.request<TokenIssueReply>(Commands.tokenIssue, { name: 'bootstrap-admin', role: 'admin', actor: o.actor }),
    );
    writePrivateFile(o.paths.adminToken, issued.token + '\n');
    adminTokenIssued = true;
  }
  return { gatewayCreated: gateway.created, policyVersion, adminTokenIssued };
}
