import { fileURLToPath } from 'node:url';

/**
 * Where the built dashboard lives (`vite build` output), for the audit API's static-file route.
 * Node-only: the browser app itself is under `src/app/` and is never imported from Node.
 */
export const dashboardDistDir: string = fileURLToPath(new URL('../dist/', import.meta.url));

