/** The stand-in for `@tameflare/service-kit` loaded by register.ts: describes, never runs. */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { ServiceConfigSchema, variableName } from '@tameflare/config';

/** One setting a service reads, with its JSON schema (TypeBox keeps its keywords as plain JSON). */
export interface DescribedVariable {
  variable: string;
  path: string;
  required: boolean;
  schema: Record<string, unknown>;
}

export interface DescribedService {
  name: string;
  variables: DescribedVariable[];
}

function leaves(schema: TSchema, path: string[], out: DescribedVariable[]): void {
  const s = schema as TSchema & { type?: string; properties?: Record<string, TSchema>; env?: string };
  if (s.type === 'object' && s.properties) {
    for (const [key, child] of Object.entries(s.properties)) leaves(child, [...path, key], out);
    return;
  }
  out.push({ variable: s.env ?? variableName(path), path: path.join('.'), required: false, schema: JSON.parse(JSON.stringify(s)) as Record<string, unknown> });
}

function requiredLeaves(schema: TObject, path: string[], out: Set<string>): void {
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(schema.properties)) {
    const c = child as TSchema & { type?: string; default?: unknown; env?: string };
    if (c.type === 'object') requiredLeaves(c as TObject, [...path, key], out);
    else if (required.has(key) && c.default === undefined) out.add(c.env ?? variableName([...path, key]));
  }
}

export async function runService(options: { name: string; configSchema?: TObject }): Promise<void> {
  const schema = Type.Object({ ...ServiceConfigSchema.properties, ...(options.configSchema?.properties ?? {}) });
  const variables: DescribedVariable[] = [];
  leaves(schema, [], variables);
  const required = new Set<string>();
  requiredLeaves(schema, [], required);
  for (const v of variables) v.required = required.has(v.variable);
  const described: DescribedService = { name: options.name, variables };
  process.stdout.write(JSON.stringify(described) + '\n', () => process.exit(0));
}

export const ServiceExitCode = { Ok: 0, Config: 1, Failed: 2 } as const;

export function startHealthServer(): never {
  throw new Error('service-kit stand-in: describing only');
}
