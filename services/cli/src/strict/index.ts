/**
 * `tf run --strict` (Linux): the agent runs in a network namespace of its own whose only
 * reachable address is the gateway's proxy port, so a client that ignores the proxy variables
 * fails instead of bypassing TameFlare. See docs/security.md.
 */
export { checkStrictSupport, type StrictTools } from './strict-support.ts';
export { startStrict, type StrictLaunch } from './start-strict.ts';
export { STRICT_SETUP_FAILED } from './strict-spec.ts';
