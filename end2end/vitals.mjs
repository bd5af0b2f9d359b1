// Web vitals of the main pages in headless Chromium (PERFORMANCE.md P11). A benchmark, not a
// test: `node vitals.mjs [out.json]` prints (or writes) one JSON object. Needs OCICAT_URL and
// OCICAT_SEED_REPORT like the suite; `cargo xtask bench` runs it against a seeded demo stack.
//
// Every page is loaded OCICAT_VITALS_SAMPLES times (7 by default), each in a fresh browser
// context: empty HTTP cache, no cookies, so every load is a first visit (the slow case: HTML,
// CSS and the wasm bundle are all fetched and compiled again). Desktop viewport, no CPU or
// network throttling, loopback server. Interactions start once the page has hydrated.
// Per load, from the browser's own performance timeline (observers installed before any page
// script runs):
// - TTFB: navigation timing `responseStart`, from navigation start.
// - LCP: the last 'largest-contentful-paint' candidate, read once the page has hydrated and two
//   animation frames have passed, before the interaction (which ends LCP).
// - CLS: 'layout-shift' entries without recent input, grouped into session windows (gaps under
//   1 s, at most 5 s long) and the largest window taken, as CrUX and web-vitals do; the visit
//   covers load, hydration and the interaction.
// - INP: one real interaction per page (trusted input events through Playwright), then the
//   longest 'event' / 'first-input' entry that belongs to an interaction. Event Timing reports
//   nothing under 16 ms (the smallest durationThreshold): a load whose interaction reported no
//   entry had an INP below 16 ms and records 16, the upper bound, with `inp_bounded: true`.
// A trusted sentinel key press, handled slowly on purpose, follows each interaction: its entry
// arriving proves the entries of the interaction before it were delivered (they are reported in
// order), so nothing waits on a fixed delay.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { baseUrl, registry, seed } from './tests/browser.mjs';

const SAMPLES = Number(process.env.OCICAT_VITALS_SAMPLES ?? 7);
const VIEWPORT = { width: 1280, height: 800 };
/** Event Timing's smallest reporting threshold, in ms: the upper bound of an unreported INP. */
const EVENT_THRESHOLD_MS = 16;
/** The key of the sentinel press: a lone Shift, which does nothing on any page. */
const SENTINEL_KEY = 'Shift';
/** How long the sentinel's handler keeps the main thread, in ms (well above the threshold). */
const SENTINEL_BUSY_MS = 40;

// Installed into every document before its scripts: the performance observers, and a hook that
// tells when hydration is done. The loader instantiates the wasm bundle, then calls `hydrate()`
// in the same chain of microtasks; a task queued when instantiation resolves therefore runs
// after `hydrate()` has returned.
function installObservers({ threshold, sentinelKey, sentinelBusy }) {
  const vitals = { lcp: [], fcp: null, shifts: [], events: [], sentinelAt: null, hydratedAt: null, visitId: Math.random() };
  window.__vitals = vitals;
  const observers = [];
  const observe = (type, options, sink) => {
    const observer = new PerformanceObserver((list) => list.getEntries().forEach(sink));
    try {
      observer.observe({ type, buffered: true, ...options });
      observers.push([observer, sink]);
    } catch { /* an entry type this browser lacks stays empty */ }
  };
  observe('largest-contentful-paint', {}, (entry) => vitals.lcp.push(entry.startTime));
  observe('paint', {}, (entry) => { if (entry.name === 'first-contentful-paint') vitals.fcp = entry.startTime; });
  observe('layout-shift', {}, (entry) => {
    if (!entry.hadRecentInput) vitals.shifts.push({ at: entry.startTime, value: entry.value });
  });
  const recordEvent = (entry) => {
    vitals.events.push({ name: entry.name, interaction: entry.interactionId ?? 0, at: entry.startTime, duration: entry.duration });
  };
  observe('event', { durationThreshold: threshold }, recordEvent);
  observe('first-input', {}, recordEvent);
  vitals.flush = () => observers.forEach(([observer, sink]) => observer.takeRecords().forEach(sink));
  addEventListener('keydown', (event) => {
    if (event.key !== sentinelKey || vitals.sentinelAt !== null) return;
    vitals.sentinelAt = event.timeStamp;
    const until = performance.now() + sentinelBusy;
    while (performance.now() < until) { /* keep the main thread so the entry is reported */ }
  }, true);
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then((result) => {
        setTimeout(() => { vitals.hydratedAt = performance.now(); });
        return result;
      });
    };
  }
}

const taggedImages = seed.items.filter((item) => item.kind === 'image' && item.reference);
const repoCounts = taggedImages.reduce((counts, item) => counts.set(item.repository, (counts.get(item.repository) ?? 0) + 1), new Map());
const [busiestRepo] = [...repoCounts.entries()].sort((a, b) => b[1] - a[1])[0];
// The artifact with the most referrers: the heaviest artifact page (tree, facts, annotations).
const referrerCounts = seed.items.reduce((counts, item) => (item.subject ? counts.set(item.subject, (counts.get(item.subject) ?? 0) + 1) : counts), new Map());
const [heaviestDigest] = [...referrerCounts.entries()].sort((a, b) => b[1] - a[1])[0];
const heaviest = seed.items.find((item) => item.digest === heaviestDigest);
const tagPrefix = taggedImages.find((item) => item.repository === busiestRepo).reference.slice(0, 3);
const signatures = seed.items.filter((item) => item.kind === 'signature').length;

/** Types `text` key by key, waiting after each key until every listed name matches the prefix. */
async function typeFilter(page, input, links, text) {
  for (let end = 1; end <= text.length; end += 1) {
    await page.locator(input).press(text[end - 1]);
    await page.waitForFunction(({ links, prefix }) => {
      const names = [...document.querySelectorAll(links)].map((link) => link.textContent);
      return new URLSearchParams(location.search).get('q') === prefix && names.length > 0 && names.every((name) => name.includes(prefix));
    }, { links, prefix: text.slice(0, end) });
  }
}

// The main pages, each with the interaction a visitor most likely makes there.
const pages = [
  {
    name: 'home', path: '/', interaction: `click the ${registry} registry card (client-side navigation)`,
    interact: async (page) => {
      await page.locator(`a.registry-card[href="/r/${registry}"]`).click();
      await page.waitForURL(`${baseUrl}/r/${registry}`);
      await page.locator('a.repo-link').first().waitFor();
    },
  },
  {
    name: 'registry', path: `/r/${registry}`, interaction: `type "${busiestRepo.slice(0, 4)}" into the repository filter`,
    interact: (page) => typeFilter(page, '#repo-filter', 'a.repo-link', busiestRepo.slice(0, 4)),
  },
  {
    name: 'repository', path: `/r/${registry}/${busiestRepo}`, interaction: `type "${tagPrefix}" into the tag filter`,
    interact: (page) => typeFilter(page, '#tag-filter', 'table.tags tbody tr a.tag-link', tagPrefix),
  },
  {
    name: 'artifact', path: `/r/${registry}/${heaviest.repository}/@${heaviest.digest}`, interaction: 'open the Manifest JSON section',
    interact: async (page) => {
      await page.locator('summary', { hasText: 'Manifest JSON' }).click();
      await page.locator('details[open] > summary', { hasText: 'Manifest JSON' }).waitFor();
    },
  },
  {
    name: 'search', path: '/search', interaction: 'click the kind: signature facet',
    interact: async (page) => {
      await page.locator('.facet[data-field=kind][data-value=signature]').click();
      await page.waitForFunction((expected) => document.querySelector('[data-testid=result-count]')?.textContent === `${expected} artifacts`, signatures);
    },
  },
  {
    name: 'status', path: '/status', interaction: `click "Refresh now" for ${registry}`,
    interact: async (page) => {
      await page.locator(`[data-registry="${registry}"] button.refresh`).click();
      await page.locator(`[data-registry="${registry}"] [role=status]`, { hasText: 'Crawl requested' }).waitFor();
    },
  },
];

/** Waits for two animation frames: what was rendered before has been painted. */
const twoFrames = (page) => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

/** The largest session window of layout shifts (gaps under 1 s, windows of at most 5 s). */
function cumulativeLayoutShift(shifts) {
  let largest = 0;
  let current = 0;
  let first = null;
  let previous = null;
  for (const shift of [...shifts].sort((a, b) => a.at - b.at)) {
    if (previous !== null && shift.at - previous.at < 1000 && shift.at - first.at < 5000) {
      current += shift.value;
    } else {
      current = shift.value;
      first = shift;
    }
    previous = shift;
    largest = Math.max(largest, current);
  }
  return largest;
}

/** One first visit of `spec`: load, hydrate, interact; returns its figures. */
async function visit(browser, spec) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    await context.addInitScript(installObservers, { threshold: EVENT_THRESHOLD_MS, sentinelKey: SENTINEL_KEY, sentinelBusy: SENTINEL_BUSY_MS });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    const response = await page.goto(baseUrl + spec.path);
    if (!response?.ok()) throw new Error(`${spec.path} answered ${response?.status()}`);
    await page.waitForFunction(() => window.__vitals.hydratedAt !== null, null, { timeout: 30_000 })
      .catch((error) => { throw new Error(`${spec.path} did not hydrate: ${error.message}`); });
    await twoFrames(page);
    const loaded = await page.evaluate(() => {
      window.__vitals.flush();
      const [navigation] = performance.getEntriesByType('navigation');
      const { lcp, fcp, hydratedAt, visitId } = window.__vitals;
      return { ttfb: navigation.responseStart, fcp, lcp: lcp.at(-1) ?? null, hydratedAt, visitId };
    });
    if (loaded.lcp === null || loaded.fcp === null) throw new Error(`${spec.path}: the browser reported no contentful paint`);
    await spec.interact(page);
    await twoFrames(page);
    await page.keyboard.press(SENTINEL_KEY);
    await page.waitForFunction(() => {
      const vitals = window.__vitals;
      vitals.flush();
      return vitals.sentinelAt !== null && vitals.events.some((entry) => entry.at >= vitals.sentinelAt);
    }, null, { polling: 'raf', timeout: 10_000 });
    const after = await page.evaluate(() => {
      const { shifts, events, sentinelAt, visitId } = window.__vitals;
      return { shifts, events, sentinelAt, visitId };
    });
    if (after.visitId !== loaded.visitId) throw new Error(`${spec.path}: the interaction reloaded the page`);
    // Everything from the sentinel on is the sentinel's own (its keydown and keyup).
    const interactions = after.events.filter((entry) => entry.interaction > 0 && entry.at < after.sentinelAt);
    const longest = interactions.reduce((worst, entry) => (entry.duration > (worst?.duration ?? 0) ? entry : worst), null);
    return {
      ttfb_ms: round(loaded.ttfb), fcp_ms: round(loaded.fcp), lcp_ms: round(loaded.lcp), hydrated_ms: round(loaded.hydratedAt),
      cls: round(cumulativeLayoutShift(after.shifts), 4),
      inp_ms: longest?.duration ?? EVENT_THRESHOLD_MS, inp_bounded: longest === null, inp_event: longest?.name ?? null,
      interaction_events: interactions.length, errors,
    };
  } finally {
    await context.close();
  }
}

const round = (value, digits = 1) => Number(value.toFixed(digits));

/** The nearest-rank 75th percentile. */
function p75(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(0.75 * sorted.length)) - 1];
}

// FCP and the hydration time are for information: the targets are on TTFB, LCP, CLS and INP.
const METRICS = ['ttfb_ms', 'fcp_ms', 'lcp_ms', 'hydrated_ms', 'cls', 'inp_ms'];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const browserVersion = browser.version();
const results = {};
try {
  for (const spec of pages) {
    const samples = [];
    for (let sample = 0; sample < SAMPLES; sample += 1) samples.push(await visit(browser, spec));
    results[spec.name] = {
      path: spec.path, interaction: spec.interaction,
      p75: Object.fromEntries(METRICS.map((metric) => [metric, p75(samples.map((figures) => figures[metric]))])),
      inp_bounded_samples: samples.filter((figures) => figures.inp_bounded).length,
      samples,
    };
    process.stderr.write(`[vitals] ${spec.name}: ${JSON.stringify(results[spec.name].p75)}\n`);
  }
} finally {
  await browser.close();
}

const all = Object.values(results).flatMap((page) => page.samples);
const worst = (metric) => {
  const [page, figures] = Object.entries(results).sort((a, b) => b[1].p75[metric] - a[1].p75[metric])[0];
  return { value: figures.p75[metric], page };
};
const summary = {
  browser: `Chromium ${browserVersion} headless`,
  samples_per_page: SAMPLES,
  viewport: VIEWPORT,
  visit: 'each load in a fresh browser context (cold cache), no throttling, loopback',
  cls_is: 'largest session window (gaps < 1 s, <= 5 s) of layout shifts without recent input',
  inp_is: `longest event timing entry of the interaction; ${EVENT_THRESHOLD_MS} (upper bound) when none reached the ${EVENT_THRESHOLD_MS} ms threshold`,
  pages: results,
  p75: Object.fromEntries(METRICS.map((metric) => [metric, p75(all.map((figures) => figures[metric]))])),
  worst_page_p75: Object.fromEntries(METRICS.map((metric) => [metric, worst(metric)])),
};
const text = JSON.stringify(summary, null, 2);
if (process.argv[2]) writeFileSync(process.argv[2], `${text}\n`);
else console.log(text);
