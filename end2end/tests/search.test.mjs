// Search in Chromium: the query language, facets, clickable examples, errors that point at the
// mistake, and result cards that open artifact pages. End-of-life expectations are worked out
// from the seeded lifecycle referrers in the registry and today's date, never from a fixed
// calendar date. Each test starts in a fresh browser context and checks its pages logged no
// error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactCount, expectNoErrors, gotoHydrated, registry, seed, seededEndOfLife, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

const href = (item) => `/r/${registry}/${item.repository}/@${item.digest}`;
const hitLinks = (page) => page.locator('a.hit-name').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));

test('kind:sbom in the seeded registry finds every seeded SBOM, each linking to its artifact page', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search?q=' + encodeURIComponent(`kind:sbom registry:${registry}`));
  const sboms = seed.items.filter((item) => item.kind === 'sbom');
  assert.equal(await page.locator('[data-testid=result-count]').innerText(), artifactCount(sboms.length));
  assert.deepEqual((await hitLinks(page)).sort(), sboms.map(href).sort(), 'every seeded SBOM, nothing else');
  await Promise.all([page.waitForURL((url) => url.pathname === href(sboms[0])), page.locator(`a.hit-name[href="${href(sboms[0])}"]`).click()]);
  assert.equal(await page.locator('.artifact-head h1 .kind').innerText(), 'SBOM');
  expectNoErrors(browser);
});

test('eol < today finds exactly the images past their end of life and opens one', async () => {
  const { page } = browser;
  const expired = (await seededEndOfLife()).filter((entry) => entry.expired);
  assert.ok(expired.length > 0, 'the seed has an image past its end of life');
  await gotoHydrated(page, '/search?q=' + encodeURIComponent('eol < today'));
  assert.equal(await page.locator('[data-testid=result-count]').innerText(), artifactCount(expired.length));
  assert.deepEqual((await hitLinks(page)).sort(), expired.map((entry) => href(entry.subject)).sort());
  const [first] = expired;
  await Promise.all([page.waitForURL((url) => url.pathname === href(first.subject)), page.locator(`a.hit-name[href="${href(first.subject)}"]`).click()]);
  await page.locator('.facts').waitFor();
  assert.equal(await page.locator('.artifact-head .badges .badge-expired').innerText(), `EOL ${first.date} · expired`);
  expectNoErrors(browser);
});

test('eol >= today finds the images still supported, shown with their date and not expired', async () => {
  const { page } = browser;
  const supported = (await seededEndOfLife()).filter((entry) => !entry.expired);
  assert.ok(supported.length > 0, 'the seed has an image whose end of life is ahead');
  await gotoHydrated(page, '/search?q=' + encodeURIComponent(`eol >= today registry:${registry}`));
  assert.deepEqual((await hitLinks(page)).sort(), supported.map((entry) => href(entry.subject)).sort());
  const [first] = supported;
  await gotoHydrated(page, href(first.subject));
  const badges = page.locator('.artifact-head .badges');
  assert.equal(await badges.locator('.badge-eol').innerText(), `EOL ${first.date}`);
  assert.equal(await badges.locator('.badge-expired').count(), 0, 'not expired');
  expectNoErrors(browser);
});

test('an invalid query says what is wrong and marks where', async () => {
  const { page } = browser;
  const path = '/search?q=' + encodeURIComponent('kind:sbom vulnz.critical > 0');
  const answered = page.waitForResponse((response) => response.url().endsWith(path));
  await gotoHydrated(page, path);
  assert.equal((await answered).status(), 400, 'the page answers 400 Bad Request');
  const error = page.locator('.query-error');
  await error.waitFor();
  assert.match(await error.innerText(), /unknown field 'vulnz\.critical'/);
  assert.equal(await page.locator('.query-echo mark').innerText(), 'vulnz.critical > 0');
  assert.equal(await page.locator('a.hit-name').count(), 0, 'no results for a query that is not valid');
  await snapshot(page, 'search-error');
  expectNoErrors(browser, { allow: [{ status: 400, url: path }] });
});

test('examples and facets narrow the results in place', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search');
  const count = async () => Number((await page.locator('[data-testid=result-count]').innerText()).split(' ')[0]);
  const all = await count();
  const distinct = new Set(seed.items.map((item) => `${item.repository}@${item.digest}`)).size;
  assert.ok(all > distinct, `${all} artifacts searchable: ${distinct} seeded and the airgap layouts' copies`);
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  await page.locator(`.facet[data-field=registry][data-value=${registry}]`).click();
  await page.waitForURL(/q=registry%3A%22local%22/);
  await page.waitForFunction((expected) => document.querySelector('[data-testid=result-count]')?.textContent === expected, artifactCount(distinct));
  await page.locator('.facet[data-field=kind][data-value=signature]').click();
  await page.waitForURL(/q=registry%3A%22local%22%20kind%3A%22signature%22/);
  assert.equal(await page.locator('#search-box').inputValue(), `registry:"${registry}" kind:"signature"`);
  const signatures = seed.items.filter((item) => item.kind === 'signature');
  await page.waitForFunction((expected) => document.querySelector('[data-testid=result-count]')?.textContent === expected, artifactCount(signatures.length));
  assert.deepEqual((await hitLinks(page)).sort(), signatures.map(href).sort());
  await snapshot(page, 'search-signatures');
  await page.locator('.examples a', { hasText: 'kind:sbom' }).click();
  await page.waitForURL(/q=kind%3Asbom$/);
  assert.equal(await page.locator('#search-box').inputValue(), 'kind:sbom');
  // Every registry: the seeded SBOMs, and copies of some of them in the airgap layouts.
  const sboms = seed.items.filter((item) => item.kind === 'sbom');
  await page.locator('a.hit-name').first().waitFor();
  await page.waitForFunction((seeded) => [...document.querySelectorAll('a.hit-name')].filter((a) => a.getAttribute('href').startsWith('/r/local/')).length === seeded, sboms.length);
  const links = await hitLinks(page);
  assert.deepEqual(links.filter((link) => link.startsWith(`/r/${registry}/`)).sort(), sboms.map(href).sort());
  const seededDigests = new Set(sboms.map((item) => item.digest));
  assert.ok(links.every((link) => link.startsWith(`/r/${registry}/`) || (link.startsWith('/r/airgap/') && seededDigests.has(link.split('/@')[1]))), `${links}`);
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here', 'narrowed in place, without a reload');
  expectNoErrors(browser);
});

test('a reference pasted into a search box opens its artifact page', async () => {
  const { page } = browser;
  const once = (item) => seed.items.filter((other) => other.digest === item.digest).length === 1;
  const tagged = seed.items.find((item) => item.kind === 'image' && item.reference && !item.reference.startsWith('sha256') && once(item));
  const untagged = seed.items.find((item) => item.kind === 'sbom' && once(item));
  assert.ok(tagged && untagged, 'the seed has a tagged image and an SBOM each stored once');
  // `repo:tag` in the home page's box.
  await gotoHydrated(page, '/');
  await page.locator('#home-search').fill(`${tagged.repository}:${tagged.reference}`);
  await Promise.all([page.waitForURL((url) => url.pathname === href(tagged)), page.locator('#home-search').press('Enter')]);
  await page.locator('.facts').waitFor();
  // `registry/repo@sha256:…` in the search page's box.
  await gotoHydrated(page, '/search');
  await page.locator('#search-box').fill(`${registry}/${untagged.repository}@${untagged.digest}`);
  await Promise.all([page.waitForURL((url) => url.pathname === href(untagged)), page.locator('#search-box').press('Enter')]);
  assert.equal(await page.locator('.artifact-head h1 .kind').innerText(), 'SBOM');
  // A digest alone.
  await gotoHydrated(page, '/search?q=' + encodeURIComponent(tagged.digest));
  await page.waitForURL((url) => url.pathname === href(tagged));
  await page.locator('.facts').waitFor();
  expectNoErrors(browser);
});
