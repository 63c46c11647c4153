'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload loads its helpers with require */
/*
 * Loaded by `tf run` into every Node process of the agent (NODE_OPTIONS=--require). Node 24.5+
 * and 22.21+ route fetch and http/https through HTTP(S)_PROXY themselves when
 * NODE_USE_ENV_PROXY=1 (which tf run sets); older Node ignores that variable, so this file
 * installs what is missing there:
 *   - fetch (Node's bundled undici): a global dispatcher from an npm undici of the same major
 *     version, so the built-in fetch accepts it;
 *   - http/https (and axios, got, node-fetch, SDKs on http.globalAgent): global-agent.
 * It never throws into the agent: a failure is one warning line on stderr.
 */
(function governNode() {
  var proxy = process.env.TF_PROXY_URL;
  if (!proxy || globalThis.__tameflarePreload) return;
  globalThis.__tameflarePreload = true;
  var parts = process.versions.node.split('.').map(Number);
  var major = parts[0];
  var minor = parts[1];
  var envProxy = process.env.NODE_USE_ENV_PROXY === '1';
  // NODE_USE_ENV_PROXY covers fetch from 24.0 / 22.21, and http/https from 24.5 / 22.21.
  var fetchCovered = envProxy && (major >= 24 || (major === 22 && minor >= 21));
  var httpCovered = envProxy && (major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21));
  var warn = function (what, err) {
    process.stderr.write('tf: could not route ' + what + ' through the gateway in this Node ' + process.version + ': ' + (err && err.message ? err.message : err) + '\n');
  };
  if (!fetchCovered && typeof globalThis.fetch === 'function') {
    try {
      var bundled = Number(String(process.versions.undici || '0').split('.')[0]);
      var undici = bundled === 6 ? require('undici-v6') : bundled === 7 ? require('undici-v7') : null;
      if (!undici) throw new Error('no undici ' + bundled + ' to match the bundled fetch');
      undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
    } catch (err) {
      warn('fetch', err);
    }
  }
  if (!httpCovered) {
    try {
      process.env.GLOBAL_AGENT_HTTP_PROXY = process.env.GLOBAL_AGENT_HTTP_PROXY || proxy;
      process.env.GLOBAL_AGENT_HTTPS_PROXY = process.env.GLOBAL_AGENT_HTTPS_PROXY || proxy;
      if (process.env.NO_PROXY && !process.env.GLOBAL_AGENT_NO_PROXY) process.env.GLOBAL_AGENT_NO_PROXY = process.env.NO_PROXY;
      require('global-agent').bootstrap();
      // global-agent passes an empty servername through when the caller set one to '' (axios and
      // got do on Node 20), and TLS then checks the certificate against "localhost".
      var HttpsProxyAgent = require('global-agent/dist/classes/HttpsProxyAgent').default;
      var isIP = require('node:net').isIP;
      var createConnection = HttpsProxyAgent.prototype.createConnection;
      HttpsProxyAgent.prototype.createConnection = function (configuration, callback) {
        if (configuration && configuration.tls && configuration.host) {
          var servername = configuration.tls.servername || (isIP(configuration.host) ? undefined : configuration.host);
          configuration.tls = Object.assign({}, configuration.tls, { host: configuration.host, servername: servername });
        }
        return createConnection.call(this, configuration, callback);
      };
    } catch (err) {
      warn('http/https', err);
    }
  } else {
    // NODE_USE_ENV_PROXY covers only the global agents: an SDK that makes its own agent
    // (stripe-node: new https.Agent({ keepAlive: true })) would connect directly. Agents made
    // from here on read the proxy from the environment too, unless they say otherwise.
    try {
      ['http', 'https'].forEach(function (name) {
        var mod = require(name);
        var Base = mod.Agent;
        mod.Agent = class GovernedAgent extends Base {
          constructor(options) {
            super(options && options.proxyEnv !== undefined ? options : Object.assign({}, options, { proxyEnv: process.env }));
          }
        };
      });
      require('module').syncBuiltinESMExports();
    } catch (err) {
      warn('http/https agents', err);
    }
  }
})();
