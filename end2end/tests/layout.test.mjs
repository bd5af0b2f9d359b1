// OCI image layouts in Chromium. The stack's read-only `airgap` registry is a directory of
// layouts: `app` (the seeded app with everything attached, exported by ocicat) and `mirror` (the
// seeded multi-platform index as `skopeo copy --all` wrote it). Both are browsed like a
// registry, the app's signature is verified there by the airgap policy, the pull command is the
// layout's; and any artifact page offers its layout as a tar download that starts with the
// layout's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, expectNoErrors, gotoHydrated, registry, richestApp, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

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
