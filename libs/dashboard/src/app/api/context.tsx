import { createContext, useContext } from 'react';
import type { Session } from '../session.ts';
import type { ApiClient } from './client.ts';

export interface ApiContextValue {
  client: ApiClient;
  session: Session;
}

export const ApiContext = createContext<ApiContextValue | null>(null);

/** The signed-in client and session. Only views rendered inside the signed-in shell call this. */
export function useApi(): ApiContextValue {
  const v = useContext(ApiContext);
  if (!v) throw new Error('useApi outside the signed-in shell');
  return v;
}
