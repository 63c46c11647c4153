// The OpenAI SDK with a placeholder key: a chat completion, then an attempt to delete a file.
import OpenAI from 'openai';
import { report, reportEnvironment } from './report.mjs';

// Default retries (2): the SDK honours x-should-retry, so a deny must not be repeated.
const openai = new OpenAI({ apiKey: 'sk-agent-holds-no-real-key', timeout: 30_000 });

try {
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
  report('chat', response.status, response.headers, data);
} catch (err) {
  report('chat', err.status ?? null, err.headers ?? {}, err.error ?? { message: String(err) });
}
try {
  const { data, response } = await openai.files.delete('file-e2e-789').withResponse();
  report('delete', response.status, response.headers, data);
} catch (err) {
  report('delete', err.status ?? null, err.headers ?? {}, err.error ?? { message: String(err) });
}
reportEnvironment();
