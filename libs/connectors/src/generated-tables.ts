import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorErrorCode, ConnectorsNotBuiltError } from './errors.ts';

/** `[method, path template, operation id]` as captured from a provider's SDK. */
export type SdkOperation = [string, string, string];

export interface GeneratedTables {
  manifest: { tablesDigest: string; sources: Record<string, { package: string; version: string; description?: string }>; counts: Record<string, number> };
  githubRest: { operations: [string, string, string, string[]][]; enterpriseOnly: [string, string, string, string[]][] };
  githubGraphql: { mutations: string[]; queries: string[] };
  stripe: { operations: SdkOperation[] };
  openai: { operations: SdkOperation[] };
  anthropic: { operations: SdkOperation[] };
  slack: { methods: string[] };
}

const dir = join(import.meta.dirname, 'generated');
let cached: GeneratedTables | undefined;

function load<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
  } catch (cause) {
    throw new ConnectorsNotBuiltError(
      ConnectorErrorCode.NotBuilt,
      `the connectors route tables are not built (${join(dir, file)} is missing or unreadable): run \`npx nx build connectors\` (or \`npm run build -w libs/connectors\`) first`,
      { cause },
    );
  }
}

/** The route tables generated at build time by scripts/generate.ts, read once. */
export function generatedTables(): GeneratedTables {
  cached ??= {
    manifest: load('manifest.json'),
    githubRest: load('github-rest.json'),
    githubGraphql: load('github-graphql.json'),
    stripe: load('stripe.json'),
    openai: load('openai.json'),
    anthropic: load('anthropic.json'),
    slack: load('slack.json'),
  };
  return cached;
}
