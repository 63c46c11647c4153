import { Consumers } from '@tameflare/contracts';
import type { Bus, ConsumerHandle } from '@tameflare/messaging';
import type { Logger } from '../types.ts';
import { slackApprovalMessage } from './slack-message.ts';

export interface NotifierOptions {
  /** Where the Slack-compatible message is POSTed (an incoming-webhook URL is itself a secret: never logged). */
  url: string;
  dashboardUrl?: string | undefined;
  timeoutMs: number;
  /** Deliveries of one event before giving up on it (logged as an error). */
  maxAttempts: number;
}

/**
 * Posts a Slack-compatible message for every `ApprovalRequested`, read from TF_EVENTS through
 * the shared durable consumer `tf-approval-notifier`: replicas share the work, one replica posts
 * each message, and an approval requested while every replica was down is still announced.
 * At least once: a post that fails is retried with backoff, so a receiver may see a repeat.
 */
export async function startNotifier(
  bus: Pick<Bus, 'consume'>,
  options: NotifierOptions,
  log: Logger,
  /** Whether the approval still waits for a decision: a backlog replayed after downtime does not announce settled ones. */
  stillPending: (approvalId: string) => Promise<boolean>,
): Promise<ConsumerHandle> {
  return bus.consume(
    Consumers.approvalNotifier,
    async (batch) => {
      for (const m of batch) {
        let event;
        try {
          event = m.event();
        } catch (err) {
          log.error({ err, seq: m.seq }, 'malformed event on the approval notifier; dropped');
          m.term('malformed');
          continue;
        }
        if (event.type !== 'ApprovalRequested') {
          m.ack();
          continue;
        }
        const approvalId = event.data.approvalId;
        try {
          if (!(await stillPending(approvalId))) {
            m.ack();
            continue;
          }
          const res = await fetch(options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(slackApprovalMessage(event.data, { dashboardUrl: options.dashboardUrl })),
            signal: AbortSignal.timeout(options.timeoutMs),
          });
          await res.body?.cancel();
          if (!res.ok) throw new Error(`webhook answered ${res.status}`);
          m.ack();
          log.info({ approvalId }, 'approval webhook sent');
        } catch (err) {
          if (m.deliveryCount >= options.maxAttempts) {
            log.error({ approvalId, attempts: m.deliveryCount, reason: (err as Error).message }, 'approval webhook failed; giving up on this message');
            m.term('webhook failed');
          } else {
            log.warn({ approvalId, attempt: m.deliveryCount, reason: (err as Error).message }, 'approval webhook failed; retrying');
            m.nak(Math.min(30_000, 250 * 2 ** m.deliveryCount));
          }
        }
      }
    },
    { ackWaitMs: Math.max(30_000, options.timeoutMs * 2) },
  );
}
