// Impact in Chromium: from an advisory in the seeded Trivy report's viewer to the impact page,
// which lists the scanned image with the scan as its source, exports the same as CSV, and keeps
// each repository's newest build alone when asked, in the order picked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, expectNoErrors, gotoHydrated, registry, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

test('an advisory in a scan leads to everything that carries it, and its CSV', async () => {
  const { page } = browser;
  const scan = seed.items.find((item) => item.kind === 'scan' && item.subject);
  await gotoHydrated(page, `/r/${registry}/${scan.repository}/@${scan.digest}`);
  const first = page.locator('table.findings tbody tr').first();
  await first.waitFor();
  const advisory = (await first.locator('td').first().innerText()).split(/\s/)[0];
  await first.locator('.impact-link').click();
  await page.waitForURL(/\/impact\?q=cve/);
  await page.locator('#impact-counts').waitFor();
  assert.match(await page.locator('#impact-counts').innerText(), /^\d+ artifacts? in \d+ repositor(y|ies) of \d+ registr(y|ies)$/);
  // The same image may be listed again under another registry (the airgap layout holds a copy).
  const group = page.locator('section.impact-group', { has: page.locator(`h2 a[href="/r/${registry}/${scan.repository}"]`) });
  const row = group.locator(`tr[data-digest="${scan.subject}"]`);
  assert.equal(await row.count(), 1, 'the scanned image is listed in its repository');
  assert.match(await row.innerText(), new RegExp(advisory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.equal(await row.locator(`.impact-sources a[href$="@${scan.digest}"]`).count(), 1, 'the scan says so');
  await snapshot(page, 'impact');
  const csv = await page.request.get(baseUrl + await page.locator('#impact-csv').getAttribute('href'));
  assert.equal(csv.status(), 200);
  assert.equal(csv.headers()['content-type'], 'text/csv; charset=utf-8');
  const text = await csv.text();
  assert.ok(text.startsWith('registry,repository,digest,'), text);
  assert.ok(text.includes(scan.subject) && text.includes(advisory), text);
  // Most affected repositories first; the order stays when the latest-only box is ticked.
  await page.locator('#impact-sort a[data-sort="affected"]').click();
  await page.waitForURL(/sort=affected/);
  await page.locator('#impact-sort a[data-sort="affected"][aria-current="page"]').waitFor();
  const sizes = await page.locator('section.impact-group').evaluateAll(
    (groups) => groups.map((group) => group.querySelectorAll('tbody tr').length));
  assert.ok(sizes.length > 0 && sizes.every((size, at) => at === 0 || sizes[at - 1] >= size), String(sizes));
  await page.locator('#impact-latest').check();
  await page.locator('form.search-form button[type=submit]').click();
  await page.waitForURL(/latest=true&sort=affected/);
  const answer = page.locator('#impact-counts, .empty');
  await answer.first().waitFor();
  assert.match(await answer.first().innerText(), /\(newest build of each\)$|^Nothing affected/);
  expectNoErrors(browser);
});
