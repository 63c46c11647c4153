import { describe, expect, it } from 'vitest';
import { compileRoutes } from './route-trie.ts';

const trie = compileRoutes([
  { method: 'GET', path: '/repos/{owner}/{repo}', route: 'repo' },
  { method: 'GET', path: '/repos/{owner}/{repo}/branches/{branch}', multiSegment: ['branch'], route: 'branch' },
  { method: 'GET', path: '/repos/{owner}/{repo}/branches/{branch}/protection', multiSegment: ['branch'], route: 'protection' },
  { method: 'GET', path: '/repos/{owner}/{repo}/contents/{path}', multiSegment: ['path'], route: 'contents' },
  { method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}', route: 'issue' },
  { method: 'GET', path: '/repos/{owner}/{repo}/issues/events', route: 'events' },
  { method: 'DELETE', path: '/repos/{owner}/{repo}', route: 'delete' },
]);
const m = (method: string, path: string) => {
  const r = trie.match(method, path.split('/').slice(1));
  return r && { route: r.route, params: Object.fromEntries(r.names.map((n, i) => [n, r.values[i]])) };
};

describe('compiled route trie', () => {
  it('prefers static segments over parameters', () => {
    expect(m('GET', '/repos/o/r/issues/events')?.route).toBe('events');
    expect(m('GET', '/repos/o/r/issues/12')).toEqual({ route: 'issue', params: { owner: 'o', repo: 'r', issue_number: '12' } });
  });

  it('lets multi-segment parameters span slashes, shortest first', () => {
    expect(m('GET', '/repos/o/r/contents/a/b/c.md')?.params.path).toBe('a/b/c.md');
    expect(m('GET', '/repos/o/r/branches/release/1.0')).toEqual({ route: 'branch', params: { owner: 'o', repo: 'r', branch: 'release/1.0' } });
    expect(m('GET', '/repos/o/r/branches/release/1.0/protection')?.params.branch).toBe('release/1.0');
  });

  it('never matches a single-segment parameter across a slash or an empty segment', () => {
    expect(m('GET', '/repos/o/r/issues/1/2')).toBeNull();
    expect(m('GET', '/repos/o//issues/1')).toBeNull();
  });

  it('keys routes by method', () => {
    expect(m('DELETE', '/repos/o/r')?.route).toBe('delete');
    expect(m('PATCH', '/repos/o/r')).toBeNull();
    expect(trie.size).toBe(7);
  });
});
