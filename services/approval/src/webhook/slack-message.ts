import type { EventData } from '@tameflare/contracts';

/** `action_id` of the two buttons; the button `value` is the approval id. */
export const SlackActions = { approve: 'tf_approval_approve', deny: 'tf_approval_deny' } as const;

/** Slack mrkdwn control characters: agent-supplied text must not ping `<!channel>` or forge links. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A Slack-compatible message (`text` + Block Kit `blocks`) asking for a decision, with Approve and Deny buttons. */
export function slackApprovalMessage(d: EventData<'ApprovalRequested'>, options: { dashboardUrl?: string | undefined } = {}) {
  const who = d.quorum > 1 ? `${d.quorum} approvers (${d.approverRoles.join('/')})` : `one ${d.approverRoles.join('/')}`;
  const params = Object.entries(d.request.action.params)
    .slice(0, 10)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  const text = esc(`Approval needed: ${d.request.action.type} by ${clip(d.agentName, 100)} (needs ${who}, expires ${d.expiresAt})`);
  const fields = [
    `*Action*\n\`${esc(d.request.action.type)}\``,
    `*Agent*\n${esc(clip(d.agentName, 100))} (run \`${d.runId}\`)`,
    `*Request*\n\`${esc(d.request.method)} ${esc(clip(d.request.url, 300))}\``,
    `*Rule*\n${esc(d.ruleId ?? '(default)')}: ${esc(clip(d.reason, 300))}`,
    `*Needs*\n${who}`,
    `*Expires*\n${d.expiresAt}`,
  ];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Approval needed: ${d.request.action.type}`, 150) } },
    { type: 'section', fields: fields.map((t) => ({ type: 'mrkdwn', text: t })) },
  ];
  if (params) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: esc(clip(`Parameters: ${params}`, 2000)) }] });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Approval \`${d.approvalId}\` · request digest \`${d.requestDigest.slice(0, 16)}…\`` }],
  });
  const buttons: unknown[] = [
    { type: 'button', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', action_id: SlackActions.approve, value: d.approvalId },
    { type: 'button', text: { type: 'plain_text', text: 'Deny' }, style: 'danger', action_id: SlackActions.deny, value: d.approvalId },
  ];
  if (options.dashboardUrl) {
    buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: `${options.dashboardUrl.replace(/\/$/, '')}/approvals/${d.approvalId}` });
  }
  blocks.push({ type: 'actions', block_id: `tf_approval_${d.approvalId}`, elements: buttons });
  return { text, blocks };
}
