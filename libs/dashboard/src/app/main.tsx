import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import './styles.css';

// The API is the audit API that serves this page: same origin, so no CORS and no token in a URL.
const endpoint = new URL('/graphql', window.location.origin).toString();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App endpoint={endpoint} />
  </StrictMode>,
);
