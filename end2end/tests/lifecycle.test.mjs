// Deleting in Chromium. The suite shares one seeded registry, and other files count on the seed
// (search.test.mjs expects `eol < today` to find demo/app:0.9.0, and every seeded manifest to be
// searchable), so this file pushes an expired build of its own (a pull-request image in
// ci/build-123 with a lifecycle referrer listed in its fallback referrers index) and deletes
// only that: found by search, planned (the referrer and the fallback index come along),
// confirmed, followed until done; afterwards the registry answers 404 for every planned digest
// and the search finds nothing. The seeded demo/app:0.9.0 is only planned, never confirmed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { baseUrl, gotoHydrated, openBrowser, registry, registryUrl, seed, signIn, snapshot } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LIFECYCLE = 'application/vnd.microsoft.artifact.lifecycle';
const repository = 'ci/build-123';
const query = 'eol < today repo:ci/*';

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function pushBlob(bytes) {
  const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202, `blob upload start: ${started.status}`);
  const upload = new URL(started.headers.get('location'), registryUrl);
  upload.searchParams.set('digest', sha256(bytes));
  const finished = await fetch(upload, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  assert.equal(finished.status, 201, `blob upload: ${await finished.text()}`);
  return { digest: sha256(bytes), size: bytes.length };
}

/** Pushes `manifest` under `tag` (by its digest without one); answers its descriptor. */
async function pushManifest(manifest, tag) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag ?? sha256(bytes)}`, {
    method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: bytes,
  });
  assert.equal(response.status, 201, `manifest push: ${await response.text()}`);
  return { mediaType: manifest.mediaType, digest: sha256(bytes), size: bytes.length };
}

/** An image tagged `pr-7` whose lifecycle referrer says it reached its end of life in 2024. */
async function pushExpiredBuild() {
  const config = await pushBlob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05Z', config: {}, rootfs: { type: 'layers', diff_ids: [] },
  })));
  const image = await pushManifest({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [],
    annotations: { 'org.opencontainers.image.created': '2024-01-02T03:04:05Z', 'org.opencontainers.image.title': 'pull request 7 (expired)' },
  }, 'pr-7');
  const empty = { mediaType: 'application/vnd.oci.empty.v1+json', ...await pushBlob(Buffer.from('{}')) };
  const annotations = { 'vnd.microsoft.artifact.lifecycle.end-of-life.date': '2024-02-01', 'org.opencontainers.image.created': '2024-01-02T04:00:00Z' };
  const lifecycle = await pushManifest({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: LIFECYCLE, config: empty, layers: [empty], subject: image, annotations,
  });
  const fallback = await pushManifest({
    schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...lifecycle, artifactType: LIFECYCLE, annotations }],
  }, image.digest.replace(':', '-'));
  return { image, lifecycle, fallback };
}

/** Asks `probe` every 250 ms until it answers something truthy (a crawl or a commit away). */
async function eventually(what, probe, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const answer = await probe();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const searchTotal = async (text) => (await (await fetch(`${baseUrl}/api/v1/search?q=${encodeURIComponent(text)}`)).json()).total;

test('visitors get no delete links', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/search?q=${encodeURIComponent('eol < today')}`);
  await page.locator('a.hit-name').first().waitFor();
  assert.equal(await page.locator('#delete-results').count(), 0);
  assert.equal(await page.locator('.usermenu a[href="/audit"]').count(), 0);
});

test('a seeded expired tag is planned with its referrer, as a manifest or as the tag alone', async () => {
  const { page } = browser;
  await signIn(page, 'admin');
  const old = seed.items.find((item) => item.repository === 'demo/app' && item.reference === '0.9.0');
  await gotoHydrated(page, `/r/${registry}/demo/app/@${old.digest}`);
  await Promise.all([page.waitForURL(/\/delete\?/), page.locator('.page-actions a', { hasText: 'Delete…' }).click()]);
  await page.locator('#plan-summary').waitFor();
  const planned = await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest));
  assert.equal(planned[0], old.digest, 'the target is the first item');
  const attached = seed.items.filter((item) => item.subject === old.digest).map((item) => item.digest);
  assert.ok(attached.length > 0 && attached.every((digest) => planned.includes(digest)), `${attached} in ${planned}`);
  assert.match(await page.locator('.plan-item .relation').first().innerText(), /attached|fallback referrers index/);
  assert.match(await page.locator('#plan-confirm').innerText(), new RegExp(`^Delete ${planned.length} manifests$`));
  assert.match(await page.locator('.tag-support').innerText(), /registry local/i, 'whether the registry can remove a tag alone');
  await snapshot(page, 'delete-plan-tag');
  await Promise.all([page.waitForURL(/tag_only=1/), page.locator('.tag-choice a', { hasText: 'Remove only the tag' }).click()]);
  await page.locator('#plan-confirm', { hasText: 'Remove tag 0.9.0' }).waitFor();
  assert.deepEqual(await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest)), [old.digest], 'only the tag goes');
  assert.match(await page.locator('.plan-warning').first().innerText(), /registry local/);
});

test('everything a search finds is planned, confirmed and deleted from the registry', async () => {
  const { page } = browser;
  assert.ok(registryUrl, 'OCICAT_REGISTRY_URL names the registry');
  const pushed = await pushExpiredBuild();
  // Ask for the crawl that indexes the push rather than count on the registry's notification
  // (or wait up to a minute for the scheduled crawl).
  await gotoHydrated(page, '/status');
  await page.locator(`[data-registry="${registry}"] button.refresh`).click();
  await page.locator(`[data-registry="${registry}"] [role=status]`, { hasText: 'Crawl requested' }).waitFor();
  await eventually(`ocicat to index ${repository}:pr-7 with its end of life`, async () => (await searchTotal(query)) === 1);

  await gotoHydrated(page, `/search?q=${encodeURIComponent(query)}`);
  const link = page.locator('#delete-results');
  assert.equal(await link.innerText(), 'Delete this 1 result…');
  await Promise.all([page.waitForURL(/\/delete\?q=/), link.click()]);
  const summary = page.locator('#plan-summary');
  await summary.waitFor();
  assert.match(await page.locator('h1').innerText(), /Delete everything matching .eol < today repo:ci\/\*./);
  assert.match(await summary.innerText(), /Manifests\s+3\b[\s\S]*Repositories\s+1\b/i);
  const planned = await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest));
  assert.deepEqual([...planned].sort(), Object.values(pushed).map((item) => item.digest).sort());
  const confirm = page.locator('#plan-confirm');
  assert.equal(await confirm.innerText(), `Delete 3 manifests matching ${query}`);
  await snapshot(page, 'delete-plan');

  await Promise.all([page.waitForURL(/\/plans\/[0-9a-f]+$/), confirm.click()]);
  await page.locator('#execution-state', { hasText: /^done$/ }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('.execution-row').count(), 3);
  assert.equal(await page.locator('.execution-row[data-outcome=deleted]').count(), 3);
  await snapshot(page, 'delete-execution');

  for (const digest of planned) {
    const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${digest}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
    assert.equal(response.status, 404, `${digest} is gone from the registry`);
  }
  await eventually('the catalog to drop the deleted build', async () => (await searchTotal(query)) === 0, 30);
  await gotoHydrated(page, `/search?q=${encodeURIComponent(query)}`);
  assert.match(await page.locator('.empty h2').innerText(), /Nothing matches/);
  assert.equal(await searchTotal('eol < today'), 1, 'the seeded expired image is still there for the other tests');

  await gotoHydrated(page, '/audit');
  const rows = page.locator('#audit-table .audit-row');
  assert.ok(await rows.count() >= 3);
  for (const digest of planned) assert.equal(await page.locator(`.audit-row[data-action=delete] code[title="${digest}"]`).count(), 1, `${digest} audited`);
  await snapshot(page, 'audit');
});

test('no page logged a console error', () => {
  assert.deepEqual(browser.errors, []);
});
