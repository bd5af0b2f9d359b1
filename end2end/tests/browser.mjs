// Shared setup for the end-to-end tests: Debian's Chromium through playwright-core, one browser
// per test file and a fresh context (no cookies, no storage, no open page) for every test, so
// that each test stands alone; and a record of what went wrong on the test's pages (console
// errors, uncaught exceptions, failed requests, responses with an error status, each with its
// URL) that every test checks with `expectNoErrors`, naming the few responses it expects to fail.
import { after, afterEach, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const baseUrl = process.env.OCICAT_URL ?? 'http://127.0.0.1:3000';
export const registry = process.env.OCICAT_REGISTRY ?? 'local';
/** The registry's own base URL (anonymous pull, push and delete), as ocicat's `local`. */
export const registryUrl = process.env.OCICAT_REGISTRY_URL;
export const seed = JSON.parse(readFileSync(process.env.OCICAT_SEED_REPORT, 'utf8'));

/** The second server on the same registry, where visitors see nothing until they sign in. */
export const strictUrl = process.env.OCICAT_STRICT_URL;
/** The stack's users and their passwords for this run: `admin` and `alice` (views demo/*). */
export const users = JSON.parse(process.env.OCICAT_USERS ?? '{}');

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Records what goes wrong in `context` into `problems`, each as `{ what, status, url, text }`:
 * console errors (a failed load names the resource's URL and status), uncaught exceptions,
 * requests that failed without an answer and responses with a status of 400 or more.
 */
function recordProblems(context, problems, { javaScriptEnabled = true } = {}) {
  context.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const failedLoad = text.match(/^Failed to load resource: the server responded with a status of (\d+)/);
    const url = message.location()?.url ?? '';
    problems.push({ what: failedLoad ? 'console: failed load' : 'console error', status: failedLoad ? Number(failedLoad[1]) : undefined, url, text });
  });
  context.on('weberror', (error) => problems.push({ what: 'uncaught exception', url: error.page()?.url() ?? '', text: String(error.error()) }));
  context.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push({ what: 'error response', status: response.status(), url: response.url(), text: `${response.request().method()} ${response.status()} ${response.statusText()}` });
    }
  });
  context.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    // A request that a navigation or a newer request cut short is no error of the page.
    if (failure === 'net::ERR_ABORTED') return;
    // Without JavaScript the browser refuses the page's scripts on purpose.
    if (!javaScriptEnabled && failure === 'csp') return;
    problems.push({ what: 'request failed', url: request.url(), text: `${request.method()} ${failure}` });
  });
}

/**
 * Registers the hooks of a test file and answers the session they fill in: before each test a
 * fresh browser context (`context`, its `page`, the `problems` recorded so far), closed after
 * it. A test that passed without calling `expectNoErrors` fails; a test that failed reports
 * the problems its pages recorded.
 */
export function useBrowser() {
  const session = { browser: null, context: null, page: null, problems: [], checked: null, contexts: [] };
  /** Another fresh context (a second visitor; `options` as Playwright's) whose problems count as the test's own. */
  session.newContext = async (options = {}) => {
    const context = await session.browser.newContext(options);
    session.contexts.push(context);
    recordProblems(context, session.problems, options);
    return { context, page: await context.newPage() };
  };
  before(async () => { session.browser = await launch(); });
  after(async () => { await session.browser?.close(); });
  beforeEach(async () => {
    session.problems = [];
    session.contexts = [];
    session.checked = null;
    ({ context: session.context, page: session.page } = await session.newContext());
  });
  afterEach(async (t) => {
    // What the pages logged after the test's check (late answers) must not go unnoticed either.
    const late = session.checked ? unexpected(session.problems.slice(session.checked.seen), session.checked.allow) : [];
    await Promise.all(session.contexts.map((context) => context.close()));
    // OCICAT_E2E_PROBLEMS=1 shows what every test's pages recorded, allowed or not.
    if ((t.passed === false || process.env.OCICAT_E2E_PROBLEMS) && session.problems.length > 0) {
      t.diagnostic(`${session.problems.length} problems recorded on the test's pages:`);
      for (const line of describe(session.problems).split('\n')) t.diagnostic(line);
    }
    if (t.passed !== false) {
      assert.ok(session.checked, 'the test checks its pages with expectNoErrors');
      assert.equal(late.length, 0, `problems on the test's pages after its check:\n${describe(late)}`);
    }
  });
  return session;
}

const describe = (problems) => problems.map((problem) => `  ${problem.what}: ${problem.text} (${problem.url})`).join('\n');

/**
 * Asserts that the test's pages logged no console error, threw nothing, lost no request and got
 * no error response, but for those `allow` names: `{ status, url }` with `url` a string (the
 * whole URL, or a path on the server) or a RegExp on the whole URL. An allowed response excuses
 * the console's "failed to load" message about it, and nothing else.
 */
export function expectNoErrors(session, { allow = [] } = {}) {
  session.checked = { allow, seen: session.problems.length };
  const found = unexpected(session.problems, allow);
  assert.equal(found.length, 0, `unexpected problems on the test's pages:\n${describe(found)}`);
}

/** The problems that no rule of `allow` names. */
function unexpected(problems, allow) {
  const matches = (rule, problem) => problem.status === rule.status && (rule.url instanceof RegExp
    ? rule.url.test(problem.url)
    : [rule.url, baseUrl + rule.url, strictUrl + rule.url].includes(problem.url));
  return problems.filter((problem) => !allow.some((rule) => matches(rule, problem)));
}

/** A browser with one page, for the scripts that are not tests (screenshots.mjs): close `browser` when done. */
export async function openBrowser() {
  const browser = await launch();
  const context = await browser.newContext();
  return { browser, context, page: await context.newPage() };
}

/** Waits until the wasm bundle has been fetched and the page has gone quiet (hydrated). */
export async function gotoHydrated(page, path, url = baseUrl) {
  const wasm = page.waitForResponse((response) => response.url().endsWith('/pkg/ocicat.wasm'));
  await page.goto(url + path);
  await wasm;
  await page.waitForLoadState('networkidle');
}

/** Asks `probe` every 250 ms until it answers something truthy (a crawl or a commit away). */
export async function eventually(what, probe, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const answer = await probe();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Where the suite saves its screenshots (test artifacts): target/e2e-screenshots by default. */
export const screenshotDir = process.env.OCICAT_SCREENSHOTS ?? join(process.cwd(), '..', 'target', 'e2e-screenshots');

/** Saves a full-page screenshot of what the test sees as `<name>.png`. */
export async function snapshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Signs `user` in through the sign-in page of `url` (the main server by default), asking to go
 * to `next` afterwards, and fails unless the server let them in.
 */
export async function signIn(page, user, { url = baseUrl, next } = {}) {
  assert.ok(users[user], `OCICAT_USERS has a password for ${user}`);
  const login = new URL('/login', url);
  if (next) login.searchParams.set('next', next);
  await page.goto(login.href);
  await page.locator('#login-name').fill(user);
  await page.locator('#login-password').fill(users[user]);
  await Promise.all([
    page.waitForURL((target) => target.pathname !== '/login' || target.searchParams.has('failed')),
    page.locator('.login-form button[type=submit]').click(),
  ]);
  const landed = new URL(page.url());
  assert.notEqual(landed.pathname, '/login', `signing in as ${user} at ${url} failed: ${landed}`);
  if (next) assert.equal(landed.pathname + landed.search, next, 'signing in leads where it was asked to');
}

/** What the search page says it found: `1 artifact`, `3 artifacts`. */
export const artifactCount = (count) => `${count} artifact${count === 1 ? '' : 's'}`;

/** Today's date as the server's queries mean it (`yyyy-mm-dd`, UTC). */
export const today = () => new Date().toISOString().slice(0, 10);

/** Answers the JSON of `path` on the main server (or `url`), failing on any other status than 200. */
export async function getJson(path, url = baseUrl) {
  const response = await fetch(url + path);
  assert.equal(response.status, 200, `GET ${path}: ${response.status}`);
  return response.json();
}

/** Every manifest media type, for the registry's Accept header. */
export const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

/** The manifest `repository@reference` as the registry itself serves it (not through ocicat). */
export async function registryManifest(repository, reference) {
  assert.ok(registryUrl, 'OCICAT_REGISTRY_URL names the registry');
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES } });
  assert.equal(response.status, 200, `the registry serves ${repository}@${reference}`);
  return response.json();
}

export const END_OF_LIFE = 'vnd.microsoft.artifact.lifecycle.end-of-life.date';

/**
 * The seeded end-of-life dates, read from the lifecycle referrers in the registry: one
 * `{ subject, date, expired }` per seeded lifecycle referrer, `subject` the seed item it
 * describes, `expired` whether the date is before today (UTC, as the search's `today`).
 */
export async function seededEndOfLife() {
  const dates = [];
  for (const item of seed.items.filter((entry) => entry.kind === 'lifecycle')) {
    const date = (await registryManifest(item.repository, item.digest)).annotations?.[END_OF_LIFE];
    assert.match(date ?? '', /^\d{4}-\d{2}-\d{2}$/, `${item.digest} carries an end-of-life date`);
    const subject = seed.items.find((entry) => entry.digest === item.subject && entry.repository === item.repository);
    dates.push({ subject, date, expired: date < today() });
  }
  return dates;
}

/** The seeded image with the most referrers, and every seeded digest that hangs on it (recursively). */
export function richestApp() {
  const attached = (digest) => seed.items.filter((item) => item.subject === digest);
  const app = seed.items
    .filter((item) => item.kind === 'image' && item.reference)
    .sort((a, b) => attached(b.digest).length - attached(a.digest).length)[0];
  const graph = new Set([app.digest]);
  const todo = [app.digest];
  while (todo.length) {
    for (const item of attached(todo.pop())) {
      if (!graph.has(item.digest)) { graph.add(item.digest); todo.push(item.digest); }
    }
  }
  return { app, graph };
}
