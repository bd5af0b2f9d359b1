// Copying in Chromium. An administrator opens the seeded app (signatures, SBOMs, a signature on
// the SPDX SBOM, scans, attestations), chooses "Copy to…", sends it to the empty `staging`
// registry of the stack, reads the plan (checked against the seed: the app and everything that
// hangs on it, recursively, none of it at the destination yet), confirms it, and finds every
// manifest at the destination under the same digest, the tag set, and the copy in ocicat.
// Afterwards it deletes the copy through ocicat (registry and index), so other files see the
// stack as seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANIFEST_TYPES, baseUrl, eventually, expectNoErrors, gotoHydrated, registry, richestApp, seed, signIn, snapshot, useBrowser,
} from './browser.mjs';

const browser = useBrowser();
const stagingUrl = process.env.OCICAT_STAGING_URL;

test('visitors get no copy link', async () => {
  const { page } = browser;
  const { app } = richestApp();
  await gotoHydrated(page, `/r/${registry}/${app.repository}/@${app.digest}`);
  await page.locator('.facts').waitFor();
  assert.equal(await page.locator('#copy-to').count(), 0, 'visitors may not write anywhere');
  expectNoErrors(browser);
});

test('an administrator copies the app with everything attached to another registry', async () => {
  assert.ok(stagingUrl, 'OCICAT_STAGING_URL names the staging registry');
  const { page } = browser;
  const { app, graph } = richestApp();
  const repository = `promoted/app-${Date.now().toString(36)}`;
  await signIn(page, 'admin');
  await gotoHydrated(page, `/r/${registry}/${app.repository}/@${app.digest}`);
  await page.locator('#copy-to').click();
  await page.locator('#plan-copy').waitFor();
  await page.waitForLoadState('networkidle');
  await page.locator('#copy-registry').fill('staging');
  await page.locator('#copy-repository').fill(repository);
  await page.locator('#copy-tag').fill('e2e');
  await page.locator('#plan-copy').click();
  const plan = page.locator('#copy-plan');
  await plan.waitFor();
  const rows = plan.locator('tbody tr');
  const planned = await rows.evaluateAll((found) => found.map((row) => ({ digest: row.dataset.digest, present: row.dataset.present })));
  assert.equal(planned[0].digest, app.digest, 'the app first, then what hangs on it');
  assert.deepEqual(new Set(planned.map((row) => row.digest)), graph, 'exactly the app and what the seed attached to it');
  assert.ok(planned.every((row) => row.present === 'false'), 'nothing is at the destination yet');
  assert.match(await page.locator('#copy-totals').innerText(), new RegExp(`^${graph.size} manifests and \\d+ blobs \\(`));
  await snapshot(page, 'copy-plan');

  await page.locator('#run-copy').click();
  const report = page.locator('#copy-report');
  await report.waitFor({ timeout: 60_000 });
  assert.equal(await report.locator('h2').innerText(), 'Copied');

  // The destination registry holds every planned manifest, and the tag names the app.
  for (const { digest } of planned) {
    const response = await fetch(`${stagingUrl}/v2/${repository}/manifests/${digest}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
    assert.equal(response.status, 200, `staging holds ${digest}`);
  }
  const tagged = await fetch(`${stagingUrl}/v2/${repository}/manifests/e2e`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
  assert.equal(tagged.headers.get('docker-content-digest'), app.digest);
  // ocicat crawls the destination at once: the copy opens with its referrers.
  const api = `${baseUrl}/api/v1/registries/staging/repositories/${repository}`;
  await eventually('the copy in the index', async () => (await page.request.get(`${api}/@${app.digest}`)).ok());
  await page.locator('#copy-destination').click();
  await page.locator('.artifact-head').waitFor();
  await page.waitForLoadState('networkidle');
  assert.match(await page.locator('h1').innerText(), new RegExp(`${repository}:e2e`));
  await snapshot(page, 'copy-destination');
  // Marked end of life from its page: a lifecycle referrer, the copy's digest unchanged.
  await page.locator('#attach-eol').fill('2020-01-31');
  await page.locator('#mark-eol').click();
  await page.locator('#attached').waitFor();
  assert.match(await page.locator('#attached').innerText(), /application\/vnd\.microsoft\.artifact\.lifecycle/);
  await eventually('the end of life on the copy', async () => {
    const shown = await (await page.request.get(`${api}/@${app.digest}`)).json();
    return shown.badges?.end_of_life === '2020-01-31' && shown.badges?.expired === true;
  });
  expectNoErrors(browser);

  // Leave the stack as seeded: delete the copy through ocicat (registry and index).
  const { csrf } = await (await page.request.get(`${baseUrl}/api/v1/me`)).json();
  const made = await page.request.post(`${baseUrl}/api/v1/plans`, {
    headers: { 'x-csrf-token': csrf, origin: baseUrl },
    data: { targets: [{ registry: 'staging', repository, reference: app.digest }] },
  });
  assert.equal(made.status(), 201, await made.text());
  const id = (await made.json()).plan.id;
  const done = await page.request.post(`${baseUrl}/api/v1/plans/${id}/execute?wait=true`, { headers: { 'x-csrf-token': csrf, origin: baseUrl } });
  assert.equal((await done.json()).state, 'done');
});

test('an administrator copies a whole repository from its page, each artifact with its tags', async () => {
  const { page } = browser;
  // A small repository with nothing that other files count (no SBOMs, no signatures).
  const byRepository = new Map();
  for (const item of seed.items) byRepository.set(item.repository, [...(byRepository.get(item.repository) ?? []), item]);
  const [source, items] = [...byRepository].find(([name, found]) =>
    found.some((item) => item.reference && !item.reference.startsWith('sha256-'))
    && found.every((item) => !['sbom', 'signature', 'attestation', 'scan'].includes(item.kind)) && !name.startsWith('upstream/'));
  const tagged = items.filter((item) => item.reference && !item.reference.startsWith('sha256-'));
  const repository = `mirror/repo-${Date.now().toString(36)}`;
  await signIn(page, 'admin');
  await gotoHydrated(page, `/r/${registry}/${source}`);
  await page.locator('#copy-repository').click();
  await page.locator('#plan-copy').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('#copy-tag').count(), 0, 'each artifact keeps its own tags');
  await page.locator('#copy-registry').fill('staging');
  await page.locator('#copy-repository').fill(repository);
  await page.locator('#plan-copy').click();
  await page.locator('#copy-plan').waitFor();
  await page.locator('#run-copy').click();
  const report = page.locator('#copy-report');
  await report.waitFor({ timeout: 60_000 });
  assert.equal(await report.locator('h2').innerText(), 'Copied');
  for (const item of tagged) {
    const there = await fetch(`${stagingUrl}/v2/${repository}/manifests/${item.reference}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
    assert.equal(there.headers.get('docker-content-digest'), item.digest, `${item.reference} at the destination`);
  }
  expectNoErrors(browser);
  // Leave the stack as seeded.
  const { csrf } = await (await page.request.get(`${baseUrl}/api/v1/me`)).json();
  const api = `${baseUrl}/api/v1/registries/staging/repositories/${repository}`;
  await eventually('the copy in the index', async () => (await page.request.get(`${api}/@${tagged[0].digest}`)).ok());
  const made = await page.request.post(`${baseUrl}/api/v1/plans`, {
    headers: { 'x-csrf-token': csrf, origin: baseUrl },
    data: { targets: [...new Set(tagged.map((item) => item.digest))].map((reference) => ({ registry: 'staging', repository, reference })) },
  });
  assert.equal(made.status(), 201, await made.text());
  const done = await page.request.post(`${baseUrl}/api/v1/plans/${(await made.json()).plan.id}/execute?wait=true`, { headers: { 'x-csrf-token': csrf, origin: baseUrl } });
  assert.equal((await done.json()).state, 'done');
});
