import { describe, expect, it } from 'vitest';
import { parse, Kind, type ObjectTypeDefinitionNode } from 'graphql';
import { typeDefs } from '../graphql/type-defs.ts';
import { fieldRoles, hasRole } from './roles.ts';

describe('roles', () => {
  it('give every root field of the schema a role, and name no field the schema lacks', () => {
    const doc = parse(typeDefs);
    for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
      const def = doc.definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === root)!;
      const fields = def.fields!.map((f) => f.name.value).sort();
      expect(Object.keys(fieldRoles[root]).sort(), root).toEqual(fields);
    }
  });

  it('keeps writes away from viewers and the kill switch and tokens to admins', () => {
    expect(fieldRoles.Mutation.approve).toBe('approver');
    expect(fieldRoles.Mutation.engageKillSwitch).toBe('admin');
    expect(fieldRoles.Query.apiTokens).toBe('admin');
    expect(hasRole('admin', 'approver')).toBe(true);
    expect(hasRole('approver', 'admin')).toBe(false);
    expect(hasRole('viewer', 'approver')).toBe(false);
  });
});
