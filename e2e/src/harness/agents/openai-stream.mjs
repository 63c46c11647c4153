// An agent holding a long OpenAI stream open, then polling until it is refused and served again:
// what a kill switch must cut and a release must restore. One JSON line per event.
const log = (o) => console.log(JSON.stringify(o));
const res = await fetch('https://api.openai.com/v1/chat/completions', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count slowly' }] }),
});
log({ event: 'stream-status', status: res.status });
let chunks = 0;
try {
  const reader = res.body.getReader();
  for (;;) {
    const { done } = await reader.read();
    if (done) {
      log({ event: 'stream-ended', how: 'done', chunks });
      break;
    }
    if (++chunks === 1) log({ event: 'stream-open' });
  }
} catch (err) {
  log({ event: 'stream-ended', how: 'error', chunks, error: String(err?.cause?.code ?? err?.message ?? err) });
}
let refused = false;
for (let i = 0; i < 600; i++) {
  const r = await fetch('https://api.openai.com/v1/models');
  const body = await r.json().catch(() => null);
  if (r.status === 403 && !refused) {
    refused = true;
    log({ event: 'refused', status: r.status, body });
  } else if (r.status === 200 && refused) {
    log({ event: 'restored', status: r.status });
    process.exit(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
log({ event: 'gave-up' });
process.exit(1);
