/**
 * The first process inside the agent's network namespace (start-strict.ts starts it through
 * `unshare --user --map-root-user --net`). The namespace has nothing but loopback: this process
 * brings it up, listens on 127.0.0.1:<gateway port> (the address the agent's proxy variables
 * name) and relays every connection to the gateway bridge's Unix socket on the host, then starts
 * the agent and passes signals and its exit status through. Any other address is unreachable
 * from inside, and there is no DNS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { STRICT_SETUP_FAILED, type StrictSpec } from './strict-spec.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

function fail(message: string): never {
  process.stderr.write(`tf run --strict: ${message}\n`);
  process.exit(STRICT_SETUP_FAILED);
}

const specFile = process.argv[2];
if (!specFile) fail('no agent specification given');
let spec: StrictSpec;
try {
  spec = JSON.parse(readFileSync(specFile, 'utf8')) as StrictSpec;
} catch (err) {
  fail(`cannot read ${specFile}: ${(err as Error).message}`);
} finally {
  // It holds the run token (inside the proxy URL): read once, then gone.
  rmSync(specFile, { force: true });
}

const lo = spawnSync(spec.ip, ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
if (lo.status !== 0) fail(`cannot bring loopback up in the agent's network namespace: ${(lo.stderr || lo.error?.message || '').trim()}`);

const relay = createServer((agentSide: Socket) => {
  const gatewaySide = connect(spec.socket);
  agentSide.pipe(gatewaySide);
  gatewaySide.pipe(agentSide);
  const end = () => {
    agentSide.destroy();
    gatewaySide.destroy();
  };
  for (const s of [agentSide, gatewaySide]) {
    s.on('error', end);
    s.on('close', end);
  }
});
relay.once('error', (err) => fail(`cannot listen on 127.0.0.1:${spec.port} in the agent's namespace: ${err.message}`));
relay.listen(spec.port, '127.0.0.1', () => {
  const agent = spawn(spec.file, spec.args, { argv0: spec.argv0, env: spec.env, stdio: 'inherit' });
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    // On a terminal Ctrl-C reaches the agent itself (same process group): do not send it twice.
    const h = () => {
      if (sig === 'SIGINT' && process.stdin.isTTY) return;
      agent.kill(sig);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  agent.once('error', (err) => fail(`cannot start ${spec.argv0}: ${err.message}`));
  agent.once('exit', (code, signal) => {
    relay.close();
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    // Die of the same signal, so tf reports 128+n exactly as without --strict.
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
});
