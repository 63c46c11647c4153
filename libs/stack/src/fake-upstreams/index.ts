/**
 * Local stand-ins for GitHub, Stripe, Slack and OpenAI over HTTPS on loopback, for `tf demo`
 * and the e2e tests: each answers like its API, refuses any request that does not carry the
 * credential the gateway was given to inject, and records what reached it.
 */
export { startFakeUpstreams, type FakeProvider, type FakeUpstream, type FakeUpstreams, type SeenRequest } from './start-fake-upstreams.ts';
