import { Type, type NumberOptions, type SchemaOptions, type TSchema, type StringOptions } from '@sinclair/typebox';

/** Schema keywords this library reads (TypeBox passes unknown options through). */
export interface ConfigKeywords {
  /** Exact environment variable name, instead of the one derived from the path. */
  env?: string;
  /** Never echo the value in an error (passwords, tokens, URLs that may carry credentials). */
  secret?: boolean;
  /** Marks a number of milliseconds written as a duration (`500ms`, `5m`). */
  tfDuration?: true;
}

/** A duration in milliseconds; accepts `500ms`, `30s`, `5m`, `1h`, `2d` or a bare number of ms. */
export function Duration(options: NumberOptions & ConfigKeywords = {}) {
  return Type.Number({ minimum: 0, ...options, tfDuration: true, description: options.description ?? 'a duration such as 500ms, 30s or 5m' });
}

/** A string that is never echoed back in an error. */
export function Secret(options: StringOptions & ConfigKeywords = {}) {
  return Type.String({ ...options, secret: true });
}

export function keywords(schema: TSchema): ConfigKeywords & SchemaOptions {
  return schema as ConfigKeywords & SchemaOptions;
}
