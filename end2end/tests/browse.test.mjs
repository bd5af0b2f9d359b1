// Browsing the seeded registry in Chromium: registries → repositories → tags → artifact,
// and proof of hydration (the tag filter reacts without a reload).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, gotoHydrated, openBrowser, registry, seed, signIn, snapshot } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

const taggedImages = seed.items.filter((item) => item.kind === 'image' && item.reference);
const repoCounts = taggedImages.reduce((counts, item) => counts.set(item.repository, (counts.get(item.repository) ?? 0) + 1), new Map());
const [busiestRepo] = [...repoCounts.entries()].sort((a, b) => b[1] - a[1])[0];

test('home page shows the registry with its repository count', async () => {
  await gotoHydrated(browser.page, '/');
  const card = browser.page.locator('.registry-card', { hasText: registry });
  await card.waitFor();
  const text = await card.innerText();
  const repositories = new Set(seed.items.map((item) => item.repository)).size;
  assert.match(text, new RegExp(`Repositories\\s+${repositories}\\b`, 'i'));
  assert.match(text, /up to date/);
  await snapshot(browser.page, 'home');
});

test('home page lists recent pushes that open their artifact, and its search box searches', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/');
  const recent = page.locator('.recent .hit-name');
  await recent.first().waitFor();
  const links = await recent.evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  const tagged = new Set(seed.items.filter((item) => item.reference).map((item) => `/r/${registry}/${item.repository}/@${item.digest}`));
  assert.ok(links.length > 0 && links.every((link) => tagged.has(link)), `every recent push is a seeded tagged artifact: ${links}`);
  const href = await recent.first().getAttribute('href');
  await recent.first().click();
  await page.waitForURL((url) => url.pathname === href);
  await page.locator('.facts').waitFor();
  await gotoHydrated(page, '/');
  await page.locator('#home-search').fill('kind:sbom');
  await Promise.all([page.waitForURL(/\/search\?q=kind%3Asbom/), page.locator('#home-search').press('Enter')]);
  await page.locator('[data-testid=result-count]').waitFor();
});

test('a registry that is down is shown as unreachable, with its error to administrators', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/');
  const card = page.locator('.registry-card', { hasText: 'offline' });
  await card.waitFor();
  assert.match(await card.innerText(), /unreachable/);
  await gotoHydrated(page, '/r/offline');
  assert.match(await page.locator('.page-head').innerText(), /unreachable/);
  assert.doesNotMatch(await page.locator('.page-head').innerText(), /Last crawl error/, 'crawl internals are for administrators');
  await signIn(page, 'admin');
  await gotoHydrated(page, '/r/offline');
  assert.match(await page.locator('.page-head').innerText(), /unreachable[\s\S]*Last crawl error: registry .*(unreachable|failing)/);
  await page.locator('.usermenu button', { hasText: 'Sign out' }).click();
  await page.waitForURL(/\/login\?signed_out=1/);
});

test('registry page lists every seeded repository and filters on the server as you type', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}`);
  const names = await page.locator('a.repo-link').allInnerTexts();
  for (const repository of new Set(seed.items.map((item) => item.repository))) {
    assert.ok(names.includes(repository), `${repository} listed in ${names}`);
  }
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  await page.locator('#repo-filter').fill(busiestRepo);
  await page.waitForFunction((name) => {
    const links = [...document.querySelectorAll('a.repo-link')].map((link) => link.textContent);
    return links.length > 0 && links.every((text) => text.includes(name));
  }, busiestRepo);
  assert.ok((await page.locator('a.repo-link').allInnerTexts()).includes(busiestRepo));
  assert.match(page.url(), new RegExp(`\\?q=${encodeURIComponent(busiestRepo).replaceAll('%2F', '/')}&`));
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'repo-filter', 'the filter keeps focus');
  await snapshot(page, 'registry-filtered');
  // Without JavaScript the same URL renders the filtered list on the server.
  await gotoHydrated(page, `/r/${registry}?q=${encodeURIComponent(busiestRepo)}`);
  assert.ok((await page.locator('a.repo-link').allInnerTexts()).every((text) => text.includes(busiestRepo)));
});

test('repository page pages, filters as you type and sorts tags on the server', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${busiestRepo}`);
  const rows = page.locator('table.tags tbody tr');
  const before = await rows.count();
  const tagged = taggedImages.filter((item) => item.repository === busiestRepo);
  assert.ok(before >= 2, `expected several tags in ${busiestRepo}, got ${before}`);
  assert.match(await page.locator('[data-testid=tag-count]').innerText(), /^\d+ tags$/);
  // Referrer plumbing never shows as a version row.
  const listed = await page.locator('table.tags tbody tr a.tag-link').allInnerTexts();
  assert.ok(listed.every((tag) => !/^sha256-/.test(tag)), `no fallback or cosign tags in ${listed}`);
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  const tag = tagged[0].reference;
  await page.locator('#tag-filter').fill(tag);
  await page.waitForFunction((wanted) => {
    const links = [...document.querySelectorAll('table.tags tbody tr a.tag-link')].map((link) => link.textContent);
    return links.length > 0 && links.every((text) => text.includes(wanted));
  }, tag);
  const remaining = await page.locator('table.tags tbody tr a.tag-link').allInnerTexts();
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  assert.match(await page.locator('[data-testid=tag-count]').innerText(), new RegExp(`^${remaining.length} tags match$`));
  await page.locator('#tag-filter').fill('');
  await page.locator('#tag-filter-sort').selectOption('name');
  await page.waitForURL(/sort=name/);
  await page.waitForFunction((count) => document.querySelectorAll('table.tags tbody tr').length === count, before);
  const byName = await page.locator('table.tags tbody tr a.tag-link').allInnerTexts();
  await snapshot(page, 'repository-by-name');
  assert.deepEqual(byName, [...byName].sort(), 'sorted by name');
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
});

test('artifact page shows kind, digest, pull command, annotations and raw manifest', async () => {
  const { page } = browser;
  const image = taggedImages.find((item) => item.repository === busiestRepo);
  await gotoHydrated(page, `/r/${registry}/${image.repository}/@${image.digest}`);
  await page.locator('.facts').waitFor();
  const facts = await page.locator('.facts').innerText();
  assert.ok(facts.includes(image.digest), 'digest shown');
  assert.match(await page.locator('.pull code').innerText(), new RegExp(`${image.repository}@${image.digest}$`));
  await snapshot(page, 'artifact');
  await page.locator('summary', { hasText: 'Manifest JSON' }).click();
  assert.match(await page.locator('pre.json').first().innerText(), /"schemaVersion": 2/);
});

test('an unknown artifact shows a not-found message, not a crash', async () => {
  const { page } = browser;
  await page.goto(`${baseUrl}/r/${registry}/${busiestRepo}/@sha256:${'0'.repeat(64)}`);
  await page.locator('.error-box').waitFor();
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
});

test('no page logged a console error', () => {
  assert.deepEqual(browser.errors.filter((text) => !text.includes('404')), []);
});
