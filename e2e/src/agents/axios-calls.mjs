// An agent with no API key: reads a GitHub repository, then tries to delete it, with axios
// (its http adapter, the way most Node HTTP code and many SDKs make requests).
import axios from 'axios';
import { report, reportEnvironment } from './report.mjs';

const repo = 'https://api.github.com/repos/acme/widgets';
const client = axios.create({ headers: { 'user-agent': 'tf-e2e-axios', accept: 'application/vnd.github+json' }, validateStatus: () => true, timeout: 30_000 });
for (const [call, method] of [['read', 'get'], ['delete', 'delete']]) {
  const res = await client.request({ url: repo, method });
  report(call, res.status, res.headers, res.data);
}
reportEnvironment();
