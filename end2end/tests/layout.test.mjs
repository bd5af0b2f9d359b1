// OCI image layouts in Chromium. The stack's read-only `airgap` registry is a directory of
// layouts: `app` (the seeded app with everything attached, exported by ocicat) and `mirror` (the
// seeded multi-platform index as `skopeo copy --all` wrote it). Both are browsed like a
// registry, the app's signature is verified there by the airgap policy, the pull command is the
// layout's; and any artifact page offers its layout as a tar download that starts with the
// layout's files; that download, uploaded on the import page, arrives in another registry
// through a copy plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MANIFEST_TYPES, baseUrl, eventually, expectNoErrors, gotoHydrated, registry, richestApp, seed, signIn, snapshot, useBrowser,
} from './browser.mjs';

const browser = useBrowser();
const stagingUrl = process.env.OCICAT_STAGING_URL;

test('a layout directory is browsed like a registry, with verdicts and its own pull command', async () => {
  const { page } = browser;
  const { app } = richestApp();
  await gotoHydrated(page, '/r/airgap');
  const names = await page.locator('a.repo-link').evaluateAll((links) => links.map((a) => a.textContent.trim()));
  assert.ok(names.includes('app') && names.includes('mirror'), `both layouts are repositories: ${names}`);
  await gotoHydrated(page, `/r/airgap/app/@${app.digest}`);
  await page.locator('.facts').waitFor();
  assert.match(await page.locator('.pull code').innerText(), /^oras pull --oci-layout \/.+\/airgap\/app@sha256:[0-9a-f]{64}$/);
  assert.equal(await page.locator('.artifact-head .badges [data-signature]').innerText(), '✓ verified · airgap');
  await snapshot(page, 'layout-artifact');
  // Its SBOMs read in the viewer, through the layout's blobs.
  const sbom = seed.items.find((item) => item.kind === 'sbom' && item.subject === app.digest);
  await gotoHydrated(page, `/r/airgap/app/@${sbom.digest}`);
  await page.locator('#contents table.packages tbody tr').first().waitFor();
  assert.match(await page.locator('#contents .facts').innerText(), /packages/);
  const index = seed.items.find((item) => item.kind === 'index' && item.reference);
  await gotoHydrated(page, `/r/airgap/mirror/@${index.digest}`);
  await page.locator('.facts').waitFor();
  assert.ok(await page.locator('.facts').innerText().then((text) => text.includes(index.reference)), 'tagged as skopeo named it');
  expectNoErrors(browser);
});

test('an artifact page offers its OCI layout as a tar download', async () => {
  const { page } = browser;
  const { app } = richestApp();
  await gotoHydrated(page, `/r/${registry}/${app.repository}/@${app.digest}`);
  const link = page.locator('#download-layout');
  const href = await link.getAttribute('href');
  assert.match(href, /^\/api\/v1\/exports\/layout\.tar\?registry=local&repository=.+&digest=sha256%3A[0-9a-f]{64}/);
  const response = await page.request.get(new URL(href, baseUrl).toString());
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/x-tar');
  const body = await response.body();
  assert.equal(body.length, Number(response.headers()['content-length']));
  assert.equal(body.subarray(0, 6).toString(), 'blobs/', 'a tar archive whose first entry is the blobs directory');
  assert.ok(body.includes(Buffer.from('"imageLayoutVersion"')), 'with the oci-layout marker');
  expectNoErrors(browser);
});

test('an administrator imports a downloaded layout into another registry from the import page', async () => {
  const { page } = browser;
  const { app, graph } = richestApp();
  await signIn(page, 'admin');
  await gotoHydrated(page, `/r/${registry}/${app.repository}/@${app.digest}`);
  const download = await page.request.get(new URL(await page.locator('#download-layout').getAttribute('href'), baseUrl).toString());
  assert.equal(download.status(), 200);
  const archive = join(mkdtempSync(join(tmpdir(), 'ocicat-e2e-')), 'app.oci.tar');
  writeFileSync(archive, await download.body());
  const repository = `imported/app-${Date.now().toString(36)}`;
  await gotoHydrated(page, '/r/staging');
  await page.locator('#import-layout').click();
  await page.locator('#plan-import').waitFor();
  await page.waitForLoadState('networkidle');
  await page.locator('#import-file').setInputFiles(archive);
  await page.locator('#import-repository').fill(repository);
  await page.locator('#plan-import').click();
  const plan = page.locator('#copy-plan');
  await plan.waitFor();
  const planned = await plan.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.dataset.digest));
  assert.deepEqual(new Set(planned), graph, 'the app and everything the seed attached to it');
  await snapshot(page, 'import-plan');
  await page.locator('#run-copy').click();
  const report = page.locator('#copy-report');
  await report.waitFor({ timeout: 60_000 });
  assert.equal(await report.locator('h2').innerText(), 'Copied');
  const tagged = await fetch(`${stagingUrl}/v2/${repository}/manifests/${app.reference}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
  assert.equal(tagged.headers.get('docker-content-digest'), app.digest);
  expectNoErrors(browser);
  // Leave the stack as seeded.
  const { csrf } = await (await page.request.get(`${baseUrl}/api/v1/me`)).json();
  const api = `${baseUrl}/api/v1/registries/staging/repositories/${repository}`;
  await eventually('the import in the index', async () => (await page.request.get(`${api}/@${app.digest}`)).ok());
  const made = await page.request.post(`${baseUrl}/api/v1/plans`, {
    headers: { 'x-csrf-token': csrf, origin: baseUrl },
    data: { targets: [{ registry: 'staging', repository, reference: app.digest }] },
  });
  assert.equal(made.status(), 201, await made.text());
  const done = await page.request.post(`${baseUrl}/api/v1/plans/${(await made.json()).plan.id}/execute?wait=true`, { headers: { 'x-csrf-token': csrf, origin: baseUrl } });
  assert.equal((await done.json()).state, 'done');
});
