/**
 * A running agent as `tf run` starts one: a shell loop calling the Stripe API through the
 * gateway with curl every 200 ms, printing each status, plus optionally one long-lived stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopingAgent {
  /** Every status the agent got, with when it got it (ms since the epoch). */
  statuses: { at: number; status: number }[];
  stop(): Promise<void>;
}

export function startLoopingAgent(proxyUrl: string, caPem: string, url: string): LoopingAgent {
  const dir = mkdtempSync(join(tmpdir(), 'tf-agent-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, caPem);
  const script = `while :; do curl -s -o /dev/null --max-time 10 --proxy "$TF_PROXY" --cacert "$TF_CA" -w '%{http_code}\\n' "$TF_URL"; sleep 0.2; done`;
  const child: ChildProcess = spawn('bash', ['-c', script], { env: { PATH: process.env.PATH, TF_PROXY: proxyUrl, TF_CA: ca, TF_URL: url }, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  const statuses: LoopingAgent['statuses'] = [];
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (/^\d{3}$/.test(line)) statuses.push({ at: Date.now(), status: Number(line) });
    }
  });
  return {
    statuses,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // The whole process group: the loop and the curl it is waiting on.
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
