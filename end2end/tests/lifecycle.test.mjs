// Deleting in Chromium. The suite shares one seeded registry and other files count on the seed
// (search.test.mjs expects `eol < today` to find exactly the seeded expired images, every file
// expects every seeded manifest to be there), so nothing seeded is ever deleted here: the
// deleting test pushes an expired build of its own (a pull-request image, under a tag no one
// else uses, in a seeded ci/ repository so the registry's repository count stays as seeded,
// with a lifecycle referrer listed in its fallback referrers index) and deletes only that:
// found by search, planned (the referrer and the fallback index come along), checked against
// the seed before confirming, confirmed, followed until done; afterwards the registry answers
// 404 for every planned digest and the search finds nothing (and should the test fail half-way,
// it deletes its build from the registry itself). The seeded expired image is only planned,
// never confirmed. Every test signs in for itself in a fresh browser context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  baseUrl, eventually, expectNoErrors, gotoHydrated, registry, registryUrl, seed, seededEndOfLife, signIn, snapshot, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LIFECYCLE = 'application/vnd.microsoft.artifact.lifecycle';
// A seeded repository under ci/ (the registry never forgets a repository, even emptied).
const repository = seed.items.find((item) => item.repository.startsWith('ci/')).repository;
// A tag the seed does not use, new on every run.
const tag = `pr-e2e-${Date.now().toString(36)}`;
const query = `eol < today repo:${repository}`;

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
/** `days` days before today (UTC), as yyyy-mm-dd. */
const daysAgo = (days) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

async function pushBlob(bytes) {
  const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202, `blob upload start: ${started.status}`);
  const upload = new URL(started.headers.get('location'), registryUrl);
  upload.searchParams.set('digest', sha256(bytes));
  const finished = await fetch(upload, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  assert.equal(finished.status, 201, `blob upload: ${await finished.text()}`);
  return { digest: sha256(bytes), size: bytes.length };
}

/** Pushes `manifest` under `reference` (by its digest without one); answers its descriptor. */
async function pushManifest(manifest, reference) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference ?? sha256(bytes)}`, {
    method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: bytes,
  });
  assert.equal(response.status, 201, `manifest push: ${await response.text()}`);
  return { mediaType: manifest.mediaType, digest: sha256(bytes), size: bytes.length };
}

/** An image tagged `tag` whose lifecycle referrer says it reached its end of life a month ago. */
async function pushExpiredBuild(pushed) {
  const created = `${daysAgo(60)}T03:04:05Z`;
  const config = await pushBlob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created, config: {}, rootfs: { type: 'layers', diff_ids: [] },
  })));
  pushed.image = await pushManifest({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [],
    annotations: { 'org.opencontainers.image.created': created, 'org.opencontainers.image.title': `pull request build ${tag} (expired)` },
  }, tag);
  const empty = { mediaType: 'application/vnd.oci.empty.v1+json', ...await pushBlob(Buffer.from('{}')) };
  const annotations = { 'vnd.microsoft.artifact.lifecycle.end-of-life.date': daysAgo(30), 'org.opencontainers.image.created': `${daysAgo(60)}T04:00:00Z` };
  pushed.lifecycle = await pushManifest({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: LIFECYCLE, config: empty, layers: [empty], subject: pushed.image, annotations,
  });
  pushed.fallback = await pushManifest({
    schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...pushed.lifecycle, artifactType: LIFECYCLE, annotations }],
  }, pushed.image.digest.replace(':', '-'));
  return pushed;
}

const searchTotal = async (text) => (await (await fetch(`${baseUrl}/api/v1/search?q=${encodeURIComponent(text)}`)).json()).total;
const hrefOf = (item) => `/r/${registry}/${item.repository}/@${item.digest}`;

test('visitors get no delete links', async () => {
  const { page } = browser;
  const expired = (await seededEndOfLife()).filter((entry) => entry.expired);
  await gotoHydrated(page, `/search?q=${encodeURIComponent('eol < today')}`);
  const hits = await page.locator('a.hit-name').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  assert.deepEqual(hits.sort(), expired.map((entry) => hrefOf(entry.subject)).sort(), 'results a maintainer could delete');
  assert.equal(await page.locator('#delete-results').count(), 0);
  assert.equal(await page.locator('.usermenu a[href="/audit"]').count(), 0);
  await gotoHydrated(page, hrefOf(expired[0].subject));
  await page.locator('.facts').waitFor();
  assert.equal(await page.locator('.page-actions a', { hasText: 'Delete…' }).count(), 0, 'no delete link on the artifact page');
  expectNoErrors(browser);
});

test('a seeded expired tag is planned with its referrer, as a manifest or as the tag alone', async () => {
  const { page } = browser;
  await signIn(page, 'admin');
  const [old] = (await seededEndOfLife()).filter((entry) => entry.expired && entry.subject.reference).map((entry) => entry.subject);
  assert.ok(old, 'the seed has a tagged image past its end of life');
  await gotoHydrated(page, hrefOf(old));
  await Promise.all([page.waitForURL(/\/delete\?/), page.locator('.page-actions a', { hasText: 'Delete…' }).click()]);
  await page.locator('#plan-summary').waitFor();
  const planned = await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest));
  assert.equal(planned[0], old.digest, 'the target is the first item');
  const attached = seed.items.filter((item) => item.subject === old.digest).map((item) => item.digest);
  assert.ok(attached.length > 0, 'the seeded expired image has referrers');
  // The seed report leaves out the fallback referrers index (tag sha256-<hex>) the seeder maintains: ask the registry.
  const fallback = await fetch(`${registryUrl}/v2/${old.repository}/manifests/${old.digest.replace(':', '-')}`, { method: 'HEAD', headers: { accept: OCI_INDEX } });
  assert.equal(fallback.status, 200, 'the registry has the fallback referrers index of the seeded expired image');
  const expected = [old.digest, ...attached, fallback.headers.get('docker-content-digest')];
  assert.deepEqual([...planned].sort(), expected.sort(), 'the image, everything attached to it and its fallback index, nothing else');
  assert.match(await page.locator('.plan-item .relation').first().innerText(), /attached|fallback referrers index/);
  assert.equal(await page.locator('#plan-confirm').innerText(), `Delete ${planned.length} manifests`);
  assert.match(await page.locator('.tag-support').innerText(), new RegExp(`registry ${registry}`, 'i'), 'whether the registry can remove a tag alone');
  await snapshot(page, 'delete-plan-tag');
  await Promise.all([page.waitForURL(/tag_only=1/), page.locator('.tag-choice a', { hasText: 'Remove only the tag' }).click()]);
  await page.locator('#plan-confirm', { hasText: `Remove tag ${old.reference}` }).waitFor();
  assert.deepEqual(await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest)), [old.digest], 'only the tag goes');
  assert.match(await page.locator('.plan-warning').first().innerText(), new RegExp(`registry ${registry}`));
  expectNoErrors(browser);
});

test('everything a search finds is planned, confirmed and deleted from the registry', async () => {
  const { page } = browser;
  assert.ok(registryUrl, 'OCICAT_REGISTRY_URL names the registry');
  assert.ok(!seed.items.some((item) => item.repository === repository && item.reference === tag), `${tag} is not seeded`);
  const seededExpired = (await seededEndOfLife()).filter((entry) => entry.expired);
  assert.ok(!seededExpired.some((entry) => entry.subject.repository === repository), `the query finds nothing seeded in ${repository}`);
  await signIn(page, 'admin');
  const pushed = {};
  try {
    await pushExpiredBuild(pushed);
    const ours = Object.values(pushed).map((item) => item.digest).sort();
    assert.ok(!seed.items.some((item) => ours.includes(item.digest)), 'the build shares no manifest with the seed');
    // Ask for the crawl that indexes the push rather than count on the registry's notification
    // (or wait up to a minute for the scheduled crawl).
    await gotoHydrated(page, '/status');
    await page.locator(`[data-registry="${registry}"] button.refresh`).click();
    await page.locator(`[data-registry="${registry}"] [role=status]`, { hasText: 'Crawl requested' }).waitFor();
    await eventually(`ocicat to index ${repository}:${tag} with its end of life`, async () => (await searchTotal(query)) === 1);

    await gotoHydrated(page, `/search?q=${encodeURIComponent(query)}`);
    const link = page.locator('#delete-results');
    assert.equal(await link.innerText(), 'Delete this 1 result…');
    await Promise.all([page.waitForURL(/\/delete\?q=/), link.click()]);
    const summary = page.locator('#plan-summary');
    await summary.waitFor();
    assert.match(await page.locator('h1').innerText(), new RegExp(`^Delete everything matching .${query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.$`));
    assert.match(await summary.innerText(), /Manifests\s+3\b[\s\S]*Repositories\s+1\b/i);
    const planned = await page.locator('.plan-item').evaluateAll((items) => items.map((item) => item.dataset.digest));
    // Nothing but the pushed build is confirmed: checked before the button is pressed.
    assert.deepEqual([...planned].sort(), ours);
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
    assert.equal(await searchTotal('eol < today'), seededExpired.length, 'the seeded expired images are still there for the other tests');

    await gotoHydrated(page, '/audit');
    for (const digest of planned) {
      const row = page.locator('.audit-row', { has: page.locator(`code[title="${digest}"]`) });
      assert.equal(await row.count(), 1, `${digest} audited once`);
      assert.equal(await row.getAttribute('data-action'), 'delete');
      assert.equal(await row.locator('[data-label=Actor]').innerText(), 'admin');
      assert.equal(await row.locator('[data-label=Outcome]').innerText(), 'deleted');
    }
    await snapshot(page, 'audit');
  } finally {
    // Should the test stop half-way, its build must not linger for the other tests.
    for (const { digest } of Object.values(pushed)) {
      await fetch(`${registryUrl}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
    }
  }
  expectNoErrors(browser);
});
