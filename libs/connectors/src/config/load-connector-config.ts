import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configError } from '../errors.ts';
import { normalizeConnector, type ConnectorDefinition } from './connector-config.ts';

function parseText(text: string, source: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (cause) {
    throw configError(source, `is not valid YAML or JSON: ${(cause as Error).message.split('\n')[0]}`, cause);
  }
}

/**
 * Parses a connector config file's text (YAML or JSON): one connector, a list, or
 * `{ connectors: [...] }`. An `openapi` given as a file name is read relative to `baseDir`.
 * Every connector is validated; the first problem throws `TF_ERR_CONNECTOR_CONFIG` naming its field.
 */
export function parseConnectorConfig(text: string, options: { baseDir?: string; source?: string } = {}): ConnectorDefinition[] {
  const source = options.source ?? 'config';
  const doc = parseText(text, source);
  const list: unknown[] = Array.isArray(doc) ? doc : doc !== null && typeof doc === 'object' && Array.isArray((doc as { connectors?: unknown }).connectors) ? (doc as { connectors: unknown[] }).connectors : [doc];
  const field = (i: number) => (Array.isArray(doc) ? `${source}[${i}]` : doc !== null && typeof doc === 'object' && 'connectors' in doc ? `${source}.connectors[${i}]` : source);
  return list.map((item, i) => {
    if (item !== null && typeof item === 'object' && typeof (item as { openapi?: unknown }).openapi === 'string') {
      const file = (item as { openapi: string }).openapi;
      const path = isAbsolute(file) ? file : resolve(options.baseDir ?? process.cwd(), file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (cause) {
        throw configError(`${field(i)}.openapi`, `cannot read the OpenAPI file ${path}`, cause);
      }
      item = { ...item, openapi: parseText(text, `${field(i)}.openapi`) };
    }
    normalizeConnector(item, field(i));
    return item as ConnectorDefinition;
  });
}

/** Reads and validates a connector config file (YAML or JSON). */
export function loadConnectorConfig(path: string): ConnectorDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw configError(path, 'cannot be read', cause);
  }
  return parseConnectorConfig(text, { baseDir: dirname(resolve(path)), source: path });
}
