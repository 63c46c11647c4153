import { FormatRegistry, Type } from '@sinclair/typebox';
import { NAME_PATTERN } from './ids.ts';

/** Building blocks shared by event and command schemas. */
export const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
/** A gateway, agent or connector id: lowercase, subject-safe. */
export const Name = Type.String({ pattern: NAME_PATTERN });
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
// TypeBox knows no string formats until they are registered; without this every IsoTime fails.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => RFC3339.test(v) && Number.isFinite(Date.parse(v)));
export const IsoTime = Type.String({ format: 'date-time', maxLength: 40 });
export const Text = (maxLength = 1000) => Type.String({ maxLength });
export const NonNegativeInt = Type.Integer({ minimum: 0 });
export const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer> | ReturnType<typeof Type.Number> | ReturnType<typeof Type.Object>>(t: T) =>
  Type.Union([t, Type.Null()]);
export const Strict = { additionalProperties: false } as const;
