// Browsing the seeded registry in Chromium: registries → repositories → tags → artifact (its
// kind, digest, pull command and annotations checked against the registry's own manifest), the
// home page's recent pushes and search box, a registry that is down, and proof of hydration
// (the filters react without a reload). Each test starts in a fresh browser context and checks
// that its pages logged no error but the ones it provokes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactCount, baseUrl, expectNoErrors, getJson, gotoHydrated, registry, registryManifest, seed, signIn, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

const taggedImages = seed.items.filter((item) => item.kind === 'image' && item.reference);
const repoCounts = taggedImages.reduce((counts, item) => counts.set(item.repository, (counts.get(item.repository) ?? 0) + 1), new Map());
// The repository with the most tagged images (the first by name among equals).
const [busiestRepo] = [...repoCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
const seededRepositories = [...new Set(seed.items.map((item) => item.repository))].sort();

test('home page shows the registry with its repository count', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/');
  const card = page.locator('.registry-card', { hasText: registry });
  await card.waitFor();
  const text = await card.innerText();
  assert.match(text, new RegExp(`Repositories\\s+${seededRepositories.length}\\b`, 'i'));
  assert.match(text, /up to date/);
  await snapshot(page, 'home');
  expectNoErrors(browser);
});

test('home page lists recent pushes that open their artifact, and its search box searches', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/');
  const recent = page.locator('.recent .hit-name');
  await recent.first().waitFor();
  const links = await recent.evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  const tagged = new Set(seed.items.filter((item) => item.reference).map((item) => `/r/${registry}/${item.repository}/@${item.digest}`));
  // The airgap layouts hold copies of seeded artifacts: the same digests under another registry.
  const taggedDigests = new Set(seed.items.filter((item) => item.reference).map((item) => item.digest));
  const seeded = (link) => tagged.has(link) || (link.startsWith('/r/airgap/') && taggedDigests.has(link.split('/@')[1]));
  assert.ok(links.length > 0 && links.every(seeded), `every recent push is a seeded tagged artifact: ${links}`);
  const newest = (await getJson('/api/v1/recent')).map((hit) => `/r/${hit.registry}/${hit.repository}/@${hit.digest}`);
  assert.deepEqual(links, newest, 'the newest builds, newest first, as the API lists them');
  const href = await recent.first().getAttribute('href');
  await recent.first().click();
  await page.waitForURL((url) => url.pathname === href);
  assert.ok((await page.locator('.facts').innerText()).includes(href.split('/@')[1]), 'the artifact opened is the one clicked');
  await gotoHydrated(page, '/');
  await page.locator('#home-search').fill(`kind:sbom registry:${registry}`);
  await Promise.all([page.waitForURL(/\/search\?q=kind%3Asbom/), page.locator('#home-search').press('Enter')]);
  const sboms = seed.items.filter((item) => item.kind === 'sbom');
  await page.locator('[data-testid=result-count]', { hasText: artifactCount(sboms.length) }).waitFor();
  const found = await page.locator('a.hit-name').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  assert.deepEqual(found.sort(), sboms.map((item) => `/r/${registry}/${item.repository}/@${item.digest}`).sort(), 'every seeded SBOM, nothing else');
  expectNoErrors(browser);
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
  expectNoErrors(browser);
});

test('registry page lists every seeded repository and filters on the server as you type', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}`);
  const names = await page.locator('a.repo-link').allInnerTexts();
  assert.deepEqual([...names].sort(), seededRepositories, 'every seeded repository, once, nothing else');
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  await page.locator('#repo-filter').fill(busiestRepo);
  const expected = seededRepositories.filter((name) => name.includes(busiestRepo));
  await page.waitForFunction((wanted) => {
    const links = [...document.querySelectorAll('a.repo-link')].map((link) => link.textContent);
    return links.length === wanted.length && links.every((text) => wanted.includes(text));
  }, expected);
  assert.match(page.url(), new RegExp(`\\?q=${encodeURIComponent(busiestRepo).replaceAll('%2F', '/')}&`));
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'repo-filter', 'the filter keeps focus');
  await snapshot(page, 'registry-filtered');
  // Without JavaScript the same URL renders the filtered list on the server.
  const { page: plain } = await browser.newContext({ javaScriptEnabled: false });
  await plain.goto(`${baseUrl}/r/${registry}?q=${encodeURIComponent(busiestRepo)}`);
  assert.deepEqual((await plain.locator('a.repo-link').allInnerTexts()).sort(), expected, 'the server renders the filtered list');
  expectNoErrors(browser);
});

test('repository page pages, filters as you type and sorts tags on the server', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${busiestRepo}`);
  const rows = page.locator('table.tags tbody tr');
  const before = await rows.count();
  const tagged = taggedImages.filter((item) => item.repository === busiestRepo);
  assert.equal(before, tagged.length, `one row per seeded tag of ${busiestRepo}`);
  assert.equal(await page.locator('[data-testid=tag-count]').innerText(), `${tagged.length} tags`);
  // Referrer plumbing never shows as a version row.
  const listed = await page.locator('table.tags tbody tr a.tag-link').allInnerTexts();
  assert.deepEqual([...listed].sort(), tagged.map((item) => item.reference).sort(), 'the seeded tags, no fallback or cosign tags');
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  const tag = tagged[0].reference;
  await page.locator('#tag-filter').fill(tag);
  const matching = tagged.filter((item) => item.reference.includes(tag)).map((item) => item.reference);
  await page.waitForFunction((wanted) => {
    const links = [...document.querySelectorAll('table.tags tbody tr a.tag-link')].map((link) => link.textContent);
    return links.length === wanted.length && links.every((text) => wanted.includes(text));
  }, matching);
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  assert.equal(await page.locator('[data-testid=tag-count]').innerText(), `${matching.length} tags match`);
  await page.locator('#tag-filter').fill('');
  await page.locator('#tag-filter-sort').selectOption('name');
  await page.waitForURL(/sort=name/);
  await page.waitForFunction((count) => document.querySelectorAll('table.tags tbody tr').length === count, before);
  const byName = await page.locator('table.tags tbody tr a.tag-link').allInnerTexts();
  await snapshot(page, 'repository-by-name');
  assert.deepEqual(byName, [...listed].sort(), 'sorted by name');
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  expectNoErrors(browser);
});

test('artifact page shows kind, digest, pull command, annotations and raw manifest', async () => {
  const { page } = browser;
  // The first seeded tagged image (by name) whose manifest has annotations to show.
  let image;
  let manifest;
  for (const item of [...taggedImages].sort((a, b) => `${a.repository}:${a.reference}`.localeCompare(`${b.repository}:${b.reference}`))) {
    manifest = await registryManifest(item.repository, item.digest);
    if (Object.keys(manifest.annotations ?? {}).length > 0) { image = item; break; }
  }
  assert.ok(image, 'a seeded tagged image has annotations');
  const annotations = Object.entries(manifest.annotations).sort(([a], [b]) => a.localeCompare(b));
  await gotoHydrated(page, `/r/${registry}/${image.repository}/@${image.digest}`);
  await page.locator('.facts').waitFor();
  // The kind: the badge in the heading, and the fact.
  const badge = page.locator('.artifact-head h1 .kind');
  assert.equal(await badge.getAttribute('class'), `kind kind-${image.kind}`);
  assert.equal(await badge.innerText(), 'IMG');
  assert.equal(await badge.getAttribute('title'), 'Container image');
  const fact = async (name) => (await page.locator('.facts div', { has: page.locator(`dt:text-is("${name}")`) }).locator('dd').innerText()).trim();
  assert.equal(await fact('Kind'), image.kind);
  assert.equal(await fact('Digest'), image.digest);
  assert.equal(await fact('Media type'), manifest.mediaType);
  assert.ok((await fact('Tags')).split(', ').includes(image.reference), 'its tag is listed');
  assert.match(await page.locator('.pull code').innerText(), new RegExp(`${image.repository}@${image.digest}$`));
  // The annotations: one row per annotation of the manifest, key and value, links for URLs.
  const panel = page.locator('section.panel', { has: page.locator('h2', { hasText: /^Annotations/ }) });
  const shown = await panel.locator('table.kv tr').evaluateAll((rows) => rows.map((row) => [row.querySelector('th').textContent, row.querySelector('td').textContent]));
  assert.deepEqual([...shown].sort(([a], [b]) => a.localeCompare(b)), annotations);
  for (const [key, value] of annotations.filter(([, value]) => /^https:\/\//.test(value))) {
    assert.equal(await panel.locator('tr', { has: page.locator(`th:text-is("${key}")`) }).locator('a').getAttribute('href'), value, `${key} is a link`);
  }
  await snapshot(page, 'artifact');
  const manifestJson = page.locator('details', { has: page.locator('summary', { hasText: 'Manifest JSON' }) });
  await manifestJson.locator('summary').click();
  assert.deepEqual(JSON.parse(await manifestJson.locator('pre.json').innerText()), manifest, 'the raw manifest is the registry\'s');
  expectNoErrors(browser);
});

test('an unknown artifact shows a not-found message, not a crash', async () => {
  const { page } = browser;
  const path = `/r/${registry}/${busiestRepo}/@sha256:${'0'.repeat(64)}`;
  const response = await page.goto(baseUrl + path);
  assert.equal(response.status(), 404);
  await page.locator('.error-box').waitFor();
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
  expectNoErrors(browser, { allow: [{ status: 404, url: path }] });
});
