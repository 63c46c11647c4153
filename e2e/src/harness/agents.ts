import { join } from 'node:path';

const dir = join(import.meta.dirname, 'agents');

/** Agent programs the e2e tests run through `tf run`; each makes real calls with one client. */
export const AGENTS = {
  /** Node global fetch: GET then DELETE a GitHub repository. */
  githubFetch: join(dir, 'github-calls.mjs'),
  /** The same with Octokit. */
  githubOctokit: join(dir, 'octokit-calls.mjs'),
  /** The same in Python; the library (urllib, requests, httpx, aiohttp) is the first argument. */
  githubPython: join(dir, 'github_calls.py'),
  /** The same with axios or got (first argument). */
  githubAxiosGot: join(dir, 'github-axios-got.mjs'),
  /** Holds an OpenAI stream open, then polls until refused and served again (kill switch). */
  openaiStream: join(dir, 'openai-stream.mjs'),
  /** The same with curl. */
  githubCurl: join(dir, 'curl-calls.sh'),
} as const;

/** One line an agent printed: a call and its answer, or its environment check. */
export interface AgentLine {
  call: string;
  event?: string;
  status?: number;
  contentType?: string | null;
  shouldRetry?: string | null;
  body?: any;
  secretInEnvironment?: boolean;
}

/** The JSON lines of an agent's stdout, by call name. */
export function parseAgentLines(stdout: string): Record<string, AgentLine> {
  const out: Record<string, AgentLine> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as AgentLine;
    out[l.call ?? l.event] = l;
  }
  return out;
}
