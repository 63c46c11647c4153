/** Test helpers for the proxy and the services around it: real clients, local upstreams, an in-process gateway. */
export { CLIENTS, openTunnel, sendWith, type ClientEnv, type ClientName, type ClientRequest, type ClientResponse } from './clients.ts';
export { TEST_IDENTITY, TEST_TOKEN, decidedFor, startTestGateway, type Rule, type TestGateway, type TestGatewayOptions } from './kit.ts';
export { createUpstreamTls, patternBytes, startHttpUpstream, startHttpsUpstream, type Captured, type TestUpstream, type UpstreamTls } from './upstream.ts';
