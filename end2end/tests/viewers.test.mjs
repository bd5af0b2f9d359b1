// The document viewers in a real browser: an image's signatures with their signers (read once
// the page is hydrated), an SPDX SBOM's package table filtered and paged, a scan's severity
// filter and the comparison of two scans, and the download of an original through the proxy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, gotoHydrated, openBrowser, registry, seed, snapshot } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

const api = (path) => `${baseUrl}/api/v1/registries/${registry}/repositories/${path}`;
// The image that every kind of referrer describes.
const kindsOf = (digest) => seed.items.filter((item) => item.subject === digest).map((item) => item.kind);
const subject = seed.items.find((item) => ['sbom', 'scan', 'signature', 'lifecycle'].every((kind) => kindsOf(item.digest).includes(kind)));
const referrers = seed.items.filter((item) => item.subject === subject.digest);

async function referrerTyped(page, artifactType) {
  for (const item of referrers) {
    const artifact = await (await page.request.get(api(`${item.repository}/@${item.digest}`))).json();
    if (artifact.artifact_type === artifactType) return item;
  }
  throw new Error(`no referrer of type ${artifactType}`);
}

test('an image lists its signatures with kind, signer and time once hydrated', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  const panel = page.locator('#signatures');
  await panel.locator('table.signatures').waitFor();
  const text = await panel.innerText();
  for (const kind of ['notation', 'cosign', 'sigstore bundle', 'in-toto attestation']) assert.ok(text.includes(kind), `${kind} in ${text}`);
  assert.match(text, /ocicat/, 'the demo certificate names the signer');
  await panel.scrollIntoViewIfNeeded();
  await snapshot(page, 'viewer-signatures');
});

test('an SPDX SBOM shows its licenses and a package table that filters and pages', async () => {
  const { page } = browser;
  const sbom = await referrerTyped(page, 'application/spdx+json');
  await gotoHydrated(page, `/r/${registry}/${sbom.repository}/@${sbom.digest}`);
  const viewer = page.locator('#contents');
  await viewer.locator('table.packages').waitFor();
  assert.match(await viewer.locator('.facts').innerText(), /SPDX 2\.3/);
  assert.ok(await viewer.locator('table.licenses tr').count() > 1, 'a license breakdown');
  assert.match(await page.locator('#package-count').innerText(), /^50 of \d+ packages|^\d+ of \d+ packages/);
  await page.locator('a[rel=next]').click();
  await page.waitForURL(/page=1/);
  await viewer.locator('table.packages tbody tr').first().waitFor();
  await page.fill('#package-filter', 'zlib1g');
  await page.locator('#contents form button[type=submit]').click();
  await page.waitForURL(/q=zlib1g/);
  const rows = viewer.locator('table.packages tbody tr');
  await rows.first().waitFor();
  const names = await rows.locator('td:first-child').allInnerTexts();
  assert.ok(names.length >= 1 && names.every((name) => name.toLowerCase().includes('zlib')), names.join(' | '));
  const row = await rows.first().innerText();
  assert.match(row, /Zlib/);
  assert.match(row, /pkg:deb\/debian\/zlib1g/);
  await snapshot(page, 'viewer-sbom');
  // The original downloads through the proxy, as an attachment, verified.
  const href = await viewer.locator('a[download]').getAttribute('href');
  const response = await page.request.get(baseUrl + href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-disposition'], /^attachment/);
  assert.equal(JSON.parse(await response.text()).spdxVersion, 'SPDX-2.3');
});

test('a scan filters by severity and compares with another scan of the image', async () => {
  const { page } = browser;
  const trivy = await referrerTyped(page, 'application/vnd.aquasec.trivy.report+json');
  await gotoHydrated(page, `/r/${registry}/${trivy.repository}/@${trivy.digest}`);
  const viewer = page.locator('#contents');
  await viewer.locator('.severity-summary').waitFor();
  const critical = Number(await viewer.locator('.severity-critical .count').innerText());
  assert.ok(critical >= 1, 'the seeded report has a critical finding');
  await page.selectOption('#finding-severity', 'critical');
  await page.locator('#contents form button[type=submit]').click();
  await page.waitForURL(/severity=critical/);
  await page.waitForFunction((count) => document.querySelectorAll('table.findings tbody tr').length === count, critical);
  const severities = await viewer.locator('table.findings tbody .severity-tag').allInnerTexts();
  assert.ok(severities.every((severity) => severity.toLowerCase() === 'critical'), severities.join(','));
  await snapshot(page, 'viewer-scan');
  await viewer.locator('a.compare-link').first().click();
  await page.waitForURL(/compare=sha256/);
  const comparison = viewer.locator('#comparison');
  await comparison.waitFor();
  assert.match(await comparison.innerText(), /0 new here, 0 gone since, \d+ in both/);
  await snapshot(page, 'viewer-scan-compare');
});
