// The document viewers in a real browser: an image's signatures with their signers (read once
// the page is hydrated), an SPDX SBOM's package table filtered and paged (counts checked
// against the original document and the API's page size), a scan's severity filter (checked
// against the original Trivy report) and the comparison of two scans, and the download of an
// original through the proxy. Each test starts in a fresh browser context and checks that its
// pages logged no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, expectNoErrors, getJson, gotoHydrated, registry, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

const api = (path) => `/api/v1/registries/${registry}/repositories/${path}`;
// The image that every kind of referrer describes.
const kindsOf = (digest) => seed.items.filter((item) => item.subject === digest).map((item) => item.kind);
const subject = seed.items.find((item) => ['sbom', 'scan', 'signature', 'lifecycle'].every((kind) => kindsOf(item.digest).includes(kind)));
const referrers = seed.items.filter((item) => item.subject === subject.digest);

async function referrerTyped(artifactType) {
  for (const item of referrers) {
    const artifact = await getJson(api(`${item.repository}/@${item.digest}`));
    if (artifact.artifact_type === artifactType) return item;
  }
  throw new Error(`no referrer of type ${artifactType}`);
}

/** The original document of `item` (its first layer), downloaded through the proxy. */
async function original(item) {
  const contents = await getJson(api(`${item.repository}/@${item.digest}/contents`));
  const response = await fetch(baseUrl + contents.layers[0].download);
  assert.equal(response.status, 200);
  return { contents, document: JSON.parse(await response.text()) };
}

test('an image lists its signatures with kind, signer and time once hydrated', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  const panel = page.locator('#signatures');
  await panel.locator('table.signatures').waitFor();
  const text = await panel.innerText();
  for (const kind of ['notation', 'cosign', 'sigstore bundle', 'in-toto attestation']) assert.ok(text.includes(kind), `${kind} in ${text}`);
  // Every seeded signature and attestation of the image has a row that links to it.
  const rows = await panel.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    href: tr.querySelector('td a').getAttribute('href'), format: tr.querySelector('td a').textContent,
    signer: tr.querySelector('[data-label=Signer]').textContent, when: tr.querySelector('[data-label=When]').textContent,
  })));
  const signed = referrers.filter((item) => ['signature', 'attestation'].includes(item.kind));
  const linked = new Set(rows.map((row) => row.href.split('/@')[1]));
  assert.deepEqual([...linked].sort(), signed.map((item) => item.digest).sort(), 'one or more rows per seeded signature and attestation');
  for (const signature of signed.filter((item) => item.kind === 'signature')) {
    const row = rows.find((entry) => entry.href.endsWith(`/@${signature.digest}`));
    assert.match(row.signer, /CN=ocicat demo signer/, `the demo certificate names the signer of ${signature.digest}`);
  }
  // Row by row what the API reads from the documents: format, and the signing time as a date.
  const listed = await getJson(api(`${subject.repository}/@${subject.digest}/signatures`));
  assert.deepEqual(rows.map(({ href, format, when }) => [href.split('/@')[1], format, when]),
    listed.map((entry) => [entry.digest, entry.format, entry.signed_at?.slice(0, 10) ?? '—']));
  assert.ok(listed.some((entry) => entry.signed_at), 'some signature carries its time');
  await panel.scrollIntoViewIfNeeded();
  await snapshot(page, 'viewer-signatures');
  expectNoErrors(browser);
});

test('an SPDX SBOM shows its licenses and a package table that filters and pages', async () => {
  const { page } = browser;
  const sbom = await referrerTyped('application/spdx+json');
  const { contents, document } = await original(sbom);
  const total = document.packages.length;
  // The page size is the API's: the first page holds that many packages, the second the rest.
  const pageSize = contents.body.Sbom.packages.length;
  assert.ok(total > pageSize, `the seeded SBOM needs a second page: ${total} packages, ${pageSize} a page`);
  assert.equal(contents.body.Sbom.pages, Math.ceil(total / pageSize));
  const path = `/r/${registry}/${sbom.repository}/@${sbom.digest}`;
  await gotoHydrated(page, path);
  const viewer = page.locator('#contents');
  const rows = viewer.locator('table.packages tbody tr');
  await rows.first().waitFor();
  assert.match(await viewer.locator('.facts').innerText(), /SPDX 2\.3/);
  assert.match(await viewer.locator('.facts').innerText(), new RegExp(`${total} packages`));
  // The license breakdown leads with the license most packages have.
  const counts = document.packages.reduce((map, item) => map.set(item.licenseConcluded, (map.get(item.licenseConcluded) ?? 0) + 1), new Map());
  const [commonest] = [...counts.entries()].filter(([license]) => license !== 'NOASSERTION').sort((a, b) => b[1] - a[1])[0];
  assert.equal(await viewer.locator('table.licenses tr th').first().innerText(), commonest);
  assert.equal(await page.locator('#package-count').innerText(), `${total} of ${total} packages`);
  assert.equal(await rows.count(), pageSize, 'a full first page');
  await page.locator('a[rel=next]').click();
  await page.waitForURL(/page=1/);
  await page.waitForFunction((count) => document.querySelectorAll('#contents table.packages tbody tr').length === count, total - pageSize);
  assert.equal(await page.locator('a[rel=next]').count(), total > 2 * pageSize ? 1 : 0, 'a next page only if there is one');
  // Filtered: the packages whose name or package URL names zlib1g.
  const purl = (item) => item.externalRefs?.find((ref) => ref.referenceType === 'purl')?.referenceLocator ?? '';
  const zlib = document.packages.filter((item) => `${item.name} ${purl(item)}`.includes('zlib1g'));
  assert.ok(zlib.length > 0, 'the seeded SBOM lists zlib1g');
  await page.fill('#package-filter', 'zlib1g');
  await page.locator('#contents form button[type=submit]').click();
  await page.waitForURL(/q=zlib1g/);
  await page.locator('#package-count', { hasText: `${zlib.length} of ${total} packages` }).waitFor();
  const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td bdi').textContent));
  assert.deepEqual(names.sort(), zlib.map((item) => item.name).sort());
  const row = await rows.filter({ hasText: zlib[0].name }).first().innerText();
  assert.ok(row.includes(zlib[0].licenseDeclared), `${zlib[0].licenseDeclared} in ${row}`);
  assert.ok(row.includes(purl(zlib[0])), `${purl(zlib[0])} in ${row}`);
  await snapshot(page, 'viewer-sbom');
  // The original downloads through the proxy, as an attachment, verified.
  const href = await viewer.locator('a[download]').getAttribute('href');
  const response = await page.request.get(baseUrl + href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-disposition'], /^attachment/);
  assert.deepEqual(JSON.parse(await response.text()), document);
  expectNoErrors(browser);
});

test('a scan filters by severity and compares with another scan of the image', async () => {
  const { page } = browser;
  const trivy = await referrerTyped('application/vnd.aquasec.trivy.report+json');
  const { document } = await original(trivy);
  const findings = document.Results.flatMap((result) => result.Vulnerabilities ?? []);
  const critical = findings.filter((finding) => finding.Severity === 'CRITICAL');
  assert.ok(critical.length > 0, 'the seeded report has a critical finding');
  await gotoHydrated(page, `/r/${registry}/${trivy.repository}/@${trivy.digest}`);
  const viewer = page.locator('#contents');
  await viewer.locator('.severity-summary').waitFor();
  for (const severity of ['critical', 'high', 'medium', 'low']) {
    const count = findings.filter((finding) => finding.Severity === severity.toUpperCase()).length;
    assert.equal(await viewer.locator(`.severity-${severity} .count`).innerText(), String(count), `${severity} findings`);
  }
  assert.equal(await viewer.locator('table.findings tbody tr').count(), findings.length, 'every finding listed');
  await page.selectOption('#finding-severity', 'critical');
  await page.locator('#contents form button[type=submit]').click();
  await page.waitForURL(/severity=critical/);
  await page.waitForFunction((count) => document.querySelectorAll('table.findings tbody tr').length === count, critical.length);
  const severities = await viewer.locator('table.findings tbody .severity-tag').allInnerTexts();
  assert.deepEqual(severities.map((severity) => severity.toLowerCase()), critical.map(() => 'critical'));
  assert.ok((await viewer.locator('table.findings tbody').innerText()).includes(critical[0].VulnerabilityID), 'the critical finding is the one listed');
  await snapshot(page, 'viewer-scan');
  // The other scans of the image found the same: nothing new, nothing gone, all in both.
  const other = await page.locator('a.compare-link').first().getAttribute('href');
  const otherDigest = new URL(other, baseUrl).searchParams.get('compare');
  const otherScan = await getJson(api(`${trivy.repository}/@${otherDigest}/contents`));
  const key = (finding) => `${finding.id} ${finding.package}`;
  const here = new Set(findings.map((finding) => `${finding.VulnerabilityID} ${finding.PkgName}`));
  const there = new Set(otherScan.body.Scan.findings.map(key));
  const both = [...here].filter((finding) => there.has(finding)).length;
  await viewer.locator('a.compare-link').first().click();
  await page.waitForURL(/compare=sha256/);
  const comparison = viewer.locator('#comparison');
  await comparison.waitFor();
  assert.match(await comparison.innerText(), new RegExp(`${here.size - both} new here, ${there.size - both} gone since, ${both} in both`));
  await snapshot(page, 'viewer-scan-compare');
  expectNoErrors(browser);
});
