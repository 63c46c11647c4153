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

const DIR = join(import.meta.dirname, 'generated');
let cached: GeneratedTables | undefined;

function load<T>(dir: string, file: string): T {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
  } catch (cause) {
    throw new ConnectorsNotBuiltError(
      ConnectorErrorCode.NotBuilt,
      `the connectors route tables are not built (${join(dir, file)} is missing or unreadable): run \`npx nx run @tameflare/connectors:build\` (or \`npm run build -w libs/connectors\`) first`,
      { cause },
    );
  }
}

/** Reads the route tables from `dir`; throws `TF_ERR_CONNECTORS_NOT_BUILT` with the build command when one is missing. */
export function loadGeneratedTables(dir: string): GeneratedTables {
  return {
    manifest: load(dir, 'manifest.json'),
    githubRest: load(dir, 'github-rest.json'),
    githubGraphql: load(dir, 'github-graphql.json'),
    stripe: load(dir, 'stripe.json'),
    openai: load(dir, 'openai.json'),
    anthropic: load(dir, 'anthropic.json'),
    slack: load(dir, 'slack.json'),
  };
}

/** The route tables generated at build time by scripts/generate.ts, read once. */
export function generatedTables(): GeneratedTables {
  cached ??= loadGeneratedTables(DIR);
  return cached;
}
