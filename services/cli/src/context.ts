import { hostname, userInfo } from 'node:os';
import type { Bus } from '@tameflare/messaging';
import type { StackInfo } from '@tameflare/stack/client';
import { graphqlClient, type GraphqlClient } from './graphql.ts';
import type { Output } from './output.ts';

/** What every command gets. */
export interface CommandContext {
  readonly out: Output;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  /** `--state-dir`, else undefined (then `TF_STATE_DIR` or `~/.tameflare`). */
  readonly stateDir: string | undefined;
  readonly json: boolean;
  /** Who a local operator command is recorded as: `cli:<user>@<host>`. */
  readonly actor: string;
  /**
   * The running stack's NATS as user `admin`, with the password from the state directory: the
   * path of local operator commands (`tf run`, `tf kill`). Closed when the command ends.
   */
  admin(): Promise<{ bus: Bus; info: StackInfo }>;
  /** The audit API as the holder of an API token: the path of commands that act as a person. */
  graphql(): GraphqlClient;
  /** Runs when the command ends, in reverse order. */
  onCleanup(fn: () => Promise<void> | void): void;
}

/** `cli:<user>@<host>` */
function localActor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `cli:${user}@${hostname()}`;
}

export function createContext(o: { out: Output; env: Record<string, string | undefined>; cwd: string; stateDir: string | undefined; json: boolean }): CommandContext & { cleanup(): Promise<void> } {
  const cleanups: (() => Promise<void> | void)[] = [];
  let admin: Promise<{ bus: Bus; info: StackInfo }> | undefined;
  const stateDir = o.stateDir ?? (o.env.TF_STATE_DIR || undefined);
  return {
    out: o.out,
    env: o.env,
    cwd: o.cwd,
    stateDir,
    json: o.json,
    actor: localActor(),
    admin() {
      if (!admin) {
        admin = import('@tameflare/stack/client').then((stack) => stack.connectAdmin(stateDir, { name: `tf-cli-${process.pid}` }));
        cleanups.push(async () => {
          const a = await admin!.catch(() => null);
          await a?.bus.close().catch(() => undefined);
        });
      }
      return admin;
    },
    graphql: () => graphqlClient({ stateDir, env: o.env }),
    onCleanup: (fn) => void cleanups.push(fn),
    async cleanup() {
      for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    },
  };
}
