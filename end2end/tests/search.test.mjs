// Search in Chromium: the query language, facets, clickable examples, errors that point at the
// mistake, and result cards that open artifact pages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gotoHydrated, openBrowser, seed, snapshot } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

test('kind:sbom finds every seeded SBOM, each linking to its artifact page', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search?q=' + encodeURIComponent('kind:sbom'));
  const sboms = seed.items.filter((item) => item.kind === 'sbom');
  assert.equal(await page.locator('[data-testid=result-count]').innerText(), `${sboms.length} artifacts`);
  const links = await page.locator('a.hit-name').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));
  for (const sbom of sboms) {
    assert.ok(links.some((href) => href.endsWith(`/@${sbom.digest}`)), `${sbom.digest} in ${links}`);
  }
});

test('eol < today finds the expired image and opens it', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search?q=' + encodeURIComponent('eol < today'));
  await page.locator('a.hit-name').first().waitFor();
  assert.equal(await page.locator('a.hit-name').count(), 1);
  await page.locator('a.hit-name').first().click();
  await page.locator('.facts').waitFor();
  assert.match(await page.locator('.badges').first().innerText(), /expired/);
});

test('an invalid query says what is wrong and marks where', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search?q=' + encodeURIComponent('kind:sbom vulnz.critical > 0'));
  const error = page.locator('.query-error');
  await error.waitFor();
  assert.match(await error.innerText(), /unknown field 'vulnz\.critical'/);
  assert.equal(await page.locator('.query-echo mark').innerText(), 'vulnz.critical > 0');
  await snapshot(page, 'search-error');
});

test('examples and facets narrow the results in place', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/search');
  const all = Number((await page.locator('[data-testid=result-count]').innerText()).split(' ')[0]);
  const distinct = new Set(seed.items.map((item) => `${item.repository}@${item.digest}`)).size;
  assert.equal(all, distinct, `${all} artifacts searchable, ${distinct} distinct manifests seeded`);
  await page.locator('.facet[data-field=kind][data-value=signature]').click();
  await page.waitForURL(/q=kind%3A%22signature%22/);
  assert.equal(await page.locator('#search-box').inputValue(), 'kind:"signature"');
  const signatures = seed.items.filter((item) => item.kind === 'signature').length;
  await page.waitForFunction((expected) => document.querySelector('[data-testid=result-count]')?.textContent === `${expected} artifacts`, signatures);
  await snapshot(page, 'search-signatures');
  await page.locator('.examples a', { hasText: 'kind:sbom' }).click();
  await page.waitForURL(/q=kind%3Asbom$/);
  assert.equal(await page.locator('#search-box').inputValue(), 'kind:sbom');
});
