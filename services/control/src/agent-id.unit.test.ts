import { expect, it } from 'vitest';
import { agentIdFor } from './agent-id.ts';

it('derives subject-safe agent ids from display names', () => {
  expect(agentIdFor('my-agent')).toBe('my-agent');
  expect(agentIdFor('My Agent (prod)')).toBe('my-agent-prod');
  expect(agentIdFor('  __Café bot__ ')).toBe('cafe-bot__');
  expect(agentIdFor('a'.repeat(100))).toHaveLength(63);
  expect(agentIdFor(`${'a'.repeat(62)} b`)).toBe('a'.repeat(62));
});

it('refuses a name with nothing usable', () => {
  expect(() => agentIdFor('!!!')).toThrow(/no letters or digits/);
  expect(() => agentIdFor('')).toThrow();
});
