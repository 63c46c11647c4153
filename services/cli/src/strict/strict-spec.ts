/** What the namespace entry needs to start the agent (written 0600 by start-strict.ts, read once). */
export interface StrictSpec {
  /** The gateway bridge's Unix socket on the host. */
  socket: string;
  /** The port the agent's proxy URL names on 127.0.0.1 (the gateway's own port). */
  port: number;
  /** iproute2 `ip`, to bring loopback up. */
  ip: string;
  file: string;
  argv0: string;
  args: string[];
  env: Record<string, string>;
}

/** The exit status of `tf run --strict` when the namespace could not be set up (as `docker run` uses 125). */
export const STRICT_SETUP_FAILED = 125;
