/**
 * `node --import ./register.ts services/<name>/src/main.ts` prints the service's configuration
 * schema instead of starting it: `@tameflare/service-kit` resolves to a stand-in whose
 * `runService` describes the schema the service passed (with the service-kit base merged in, as
 * the real one does) and exits. Test-only: it reads what each main.ts really declares.
 */
import { registerHooks } from 'node:module';

const stand = new URL('./service-kit-describe.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === '@tameflare/service-kit') return { url: stand, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
