import { isValidName } from '@tameflare/contracts';
import { ControlErrorCode, controlError } from './errors.ts';

/**
 * The agent id for a display name: lowercase, runs of anything outside `[a-z0-9_-]` become one
 * `-`, trimmed to 63 characters, so `My Agent (prod)` and `my-agent-prod` are the same agent and
 * the id is safe inside a NATS subject and a kill-switch scope key.
 *
 * @throws ControlError `TF_ERR_CONTROL_INVALID` when nothing usable is left (`"!!!"`).
 */
export function agentIdFor(agentName: string): string {
  const id = agentName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!isValidName(id)) {
    throw controlError(ControlErrorCode.Invalid, `agent name ${JSON.stringify(agentName)} has no letters or digits to make an agent id from`);
  }
  return id;
}
