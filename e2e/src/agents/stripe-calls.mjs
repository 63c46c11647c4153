// The Stripe SDK with a placeholder key (the agent holds no real one): retrieves a charge, then
// tries to delete a customer. stripe-node makes its requests with Node's https module.
import Stripe from 'stripe';
import { report, reportEnvironment } from './report.mjs';

const stripe = new Stripe('sk_test_agent_holds_no_real_key', { maxNetworkRetries: 0, timeout: 30_000 });

async function call(name, fn) {
  try {
    const res = await fn();
    const { lastResponse, ...body } = res;
    report(name, lastResponse.statusCode, lastResponse.headers, body);
  } catch (err) {
    report(name, err.statusCode ?? null, err.headers ?? {}, err.raw ?? { message: String(err) });
  }
}

await call('read', () => stripe.charges.retrieve('ch_e2e_123'));
await call('delete', () => stripe.customers.del('cus_e2e_456'));
reportEnvironment();
