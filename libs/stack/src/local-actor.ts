import { hostname, userInfo } from 'node:os';

/** Who a local operator command is recorded as: `<prefix>:<user>@<host>`. */
export function localActor(prefix: string): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${prefix}:${user}@${hostname()}`;
}
