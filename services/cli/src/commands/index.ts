import type { CommandSpec } from '../registry.ts';
import { approvalsCommands } from './approvals.ts';
import { auditCommands } from './audit.ts';
import { connectorCommands } from './connector.ts';
import down from './down.ts';
import demo from './demo.ts';
import kill from './kill.ts';
import { policyCommands } from './policy.ts';
import run from './run.ts';
import { secretCommands } from './secret.ts';
import status from './status.ts';
import { tokenCommands } from './token.ts';
import up from './up.ts';

/** Every `tf` command, in the order `tf --help` lists them. Add a command: one file, one line here. */
export const commands: readonly CommandSpec[] = [
  up,
  down,
  status,
  run,
  kill,
  demo,
  ...policyCommands,
  ...secretCommands,
  ...connectorCommands,
  ...approvalsCommands,
  ...auditCommands,
  ...tokenCommands,
];
