import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventsDocPath, renderEventsDoc } from '../scripts/generate-events-doc.ts';
import { Buckets, Commands, eventCatalog } from './index.ts';

describe('docs/events.md', () => {
  const rendered = renderEventsDoc();

  it('is up to date with the contracts', () => {
    const committed = readFileSync(eventsDocPath, 'utf8');
    if (committed !== rendered) {
      throw new Error('docs/events.md is stale: the contracts changed. Run `npm run docs:events` at the repository root and commit docs/events.md.');
    }
  });

  it('documents every event subject, bucket and command', () => {
    for (const [type, e] of Object.entries(eventCatalog)) {
      expect(rendered).toContain(`### ${type}`);
      expect(rendered).toContain((e.subject as (d: unknown) => string)({ gatewayId: '<gatewayId>' }));
    }
    for (const bucket of Object.values(Buckets)) expect(rendered).toContain(`\`${bucket}\``);
    for (const c of Object.values(Commands)) expect(rendered).toContain(`| \`${c.subject}\` | \`${c.queue}\` |`);
  });
});
