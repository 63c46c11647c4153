/**
 * Debian's Chromium driven by playwright-core: headless, a fresh profile per launch, and the
 * flags that keep it off the network it does not have (without them it waits on Google lookups).
 * Screenshots go to test-artifacts/dashboard/ (kept by CI, not committed); with
 * TF_UPDATE_SCREENSHOTS=1 the same pictures also replace docs/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.TF_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'dashboard');
export const DOCS_SCREENSHOTS_DIR = join(ROOT, 'docs', 'screenshots');

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export interface DashboardBrowser {
  context: BrowserContext;
  /** A new tab: its own sessionStorage, so its own sign-in. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<DashboardBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: DESKTOP,
    locale: 'en-GB',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(15_000);
  for (const p of context.pages()) await p.close();
  return {
    context,
    async newPage(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a full-page screenshot as a test artifact. With `docs` and TF_UPDATE_SCREENSHOTS=1, also
 * saves what the viewport shows to docs/screenshots/ (one screen, to keep the committed set small).
 */
export async function screenshot(page: Page, name: string, options: { docs?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const w = page.viewportSize()?.width ?? 0;
  const file = join(ARTIFACTS_DIR, `${name}-${w}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  if (options.docs && process.env.TF_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SCREENSHOTS_DIR, { recursive: true });
    await page.screenshot({ path: join(DOCS_SCREENSHOTS_DIR, `${name}-${w}.png`), fullPage: false, animations: 'disabled', caret: 'hide' });
  }
  return file;
}

// The checks below run inside the page. They are plain JavaScript strings: the e2e project is
// typed for Node, without the DOM library.

const UNNAMED_CONTROLS = `(() => {
  const text = (el) => ((el && el.textContent) || '').replace(/\s+/g, ' ').trim();
  const byIds = (ids) => (ids || '').split(/\s+/).filter(Boolean).map((id) => text(document.getElementById(id))).join(' ').trim();
  const out = [];
  for (const h of document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea, [role=button]')) {
    if (h.closest('[hidden], dialog:not([open])') || h.getClientRects().length === 0) continue;
    const field = h.tagName === 'INPUT' || h.tagName === 'SELECT' || h.tagName === 'TEXTAREA';
    const labels = field ? Array.from(h.labels || []).map(text).join(' ') : '';
    const name = (h.getAttribute('aria-label') || '').trim() || byIds(h.getAttribute('aria-labelledby')) || labels || (field ? '' : text(h)) || (h.getAttribute('title') || '').trim();
    if (!name) out.push(h.outerHTML.slice(0, 120));
  }
  return out;
})()`;

const LOW_CONTRAST = `(() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = (c) => {
    const f = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] >= 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('.visually-hidden, svg, [aria-hidden=true]') || el.getClientRects().length === 0 || el.disabled) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || Number(st.opacity) < 0.5) continue;
    const fg = parse(st.color);
    if (!fg) continue;
    const bg = bgOf(el);
    const mixed = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [l1, l2] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(st.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) out.push(ratio.toFixed(2) + ':1 "' + n.textContent.trim().slice(0, 40) + '"');
  }
  return out;
})()`;

/** Interactive elements without an accessible name (what a screen reader would announce as just "button"). */
export async function unnamedControls(page: Page): Promise<string[]> {
  return (await page.evaluate(UNNAMED_CONTROLS)) as string[];
}

/**
 * Visible text whose contrast with its background is under WCAG AA (4.5:1, or 3:1 for large
 * text). The background is the first opaque one up the tree.
 */
export async function lowContrastText(page: Page): Promise<string[]> {
  return (await page.evaluate(LOW_CONTRAST)) as string[];
}

/** The text of the focused element. */
export async function focusedText(page: Page): Promise<string | null> {
  return (await page.evaluate('document.activeElement ? document.activeElement.textContent : null')) as string | null;
}

/** How many entries this tab's sessionStorage holds. */
export async function sessionEntries(page: Page): Promise<number> {
  return (await page.evaluate('sessionStorage.length')) as number;
}
