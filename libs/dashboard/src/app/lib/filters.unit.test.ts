import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, formFromQuery, formToQuery, globMatches, matchesFilter, toActionFilter } from './filters.ts';

const NOW = Date.parse('2026-05-01T12:00:00.000Z');

describe('toActionFilter', () => {
  it('turns the form into the API filter', () => {
    const r = toActionFilter({ ...EMPTY_FILTER, agent: ' my-agent ', gateway: 'prod', actionType: 'github.repo.*', decision: 'DENY', range: '1h' }, NOW);
    expect(r).toEqual({ ok: true, filter: { agentId: 'my-agent', gatewayId: 'prod', actionType: 'github.repo.*', decision: ['DENY'], since: '2026-05-01T11:00:00.000Z' } });
    expect(toActionFilter(EMPTY_FILTER, NOW)).toEqual({ ok: true, filter: {} });
  });

  it('explains each bad field instead of sending a query the API would refuse', () => {
    const r = toActionFilter({ ...EMPTY_FILTER, agent: 'My Agent', actionType: 'github repo', run: 'nope', range: 'custom', since: '2026-05-02T00:00', until: '2026-05-01T00:00' }, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.problems).sort()).toEqual(['actionType', 'agent', 'run', 'until']);
  });
});

describe('matchesFilter and globMatches', () => {
  const a = { agentId: 'bot', gatewayId: 'prod', runId: 'r1', type: 'github.repo.delete', decision: 'DENY' as const, requestedAt: '2026-05-01T11:30:00.000Z' };
  it('applies the same glob meaning as the API: * is one segment, ** any depth', () => {
    expect(globMatches('github.repo.*', 'github.repo.delete')).toBe(true);
    expect(globMatches('github.*', 'github.repo.delete')).toBe(false);
    expect(globMatches('github.**', 'github.repo.delete')).toBe(true);
    expect(globMatches('*.delete', 'stripe.delete')).toBe(true);
    expect(globMatches('github.repo.delete', 'github.repoxdelete')).toBe(false);
  });
  it('checks every field of the filter', () => {
    expect(matchesFilter({ agentId: 'bot', decision: ['DENY'], actionType: 'github.**', since: '2026-05-01T11:00:00.000Z' }, a)).toBe(true);
    expect(matchesFilter({ agentId: 'other' }, a)).toBe(false);
    expect(matchesFilter({ decision: ['ALLOW'] }, a)).toBe(false);
    expect(matchesFilter({ until: '2026-05-01T11:00:00.000Z' }, a)).toBe(false);
    expect(matchesFilter({ runId: 'r2' }, a)).toBe(false);
  });
});

describe('formToQuery / formFromQuery', () => {
  it('round-trips a form and ignores values the form cannot hold', () => {
    const form = { ...EMPTY_FILTER, agent: 'bot', decision: 'REQUIRE_APPROVAL' as const, range: '24h' as const };
    expect(formFromQuery(formToQuery(form))).toEqual(form);
    expect(formFromQuery('decision=MAYBE&range=forever&agent=x')).toEqual({ ...EMPTY_FILTER, agent: 'x' });
  });
});
