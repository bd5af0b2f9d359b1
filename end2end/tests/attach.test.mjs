// Attaching later, and each kind as its own tool shows it, in Chromium. A visitor reads the
// seeded Helm chart (its README rendered, its values) and the WebAssembly module. An
// administrator copies a small image to the `staging` registry (so the seeded stack stays as
// it is), marks every result of a search end of life from the search page, adds annotations
// and a document from the artifact's Attach panel, reads the annotations back with who added
// them, and deletes the copy again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, eventually, expectNoErrors, gotoHydrated, registry, seed, signIn, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

test('a Helm chart shows its README, values and metadata; a WebAssembly module its exports', async () => {
  const { page } = browser;
  const chart = seed.items.find((item) => item.kind === 'helm' && item.reference);
  await gotoHydrated(page, `/r/${registry}/${chart.repository}/@${chart.digest}`);
  const panel = page.locator('#chart');
  await panel.locator('#chart-readme h2').first().waitFor();
  assert.equal(await panel.locator('#chart-readme h2').first().innerText(), 'Installing');
  assert.equal(await panel.locator('#chart-readme img').count(), 0, 'no remote images');
  await panel.locator('.chart-values summary').click();
  assert.match(await page.locator('#chart-values').innerText(), /replicaCount: 1/);
  await snapshot(page, 'helm-chart');
  const module = seed.items.find((item) => item.kind === 'wasm' && item.reference);
  await gotoHydrated(page, `/r/${registry}/${module.repository}/@${module.digest}`);
  await page.locator('#wasm-kind').waitFor();
  assert.equal(await page.locator('#wasm-kind').innerText(), 'core module');
  assert.ok(await page.locator('#wasm .wasm-items tr').count() > 0, 'its imports and exports are listed');
  expectNoErrors(browser);
});

test('an administrator marks a search\'s results end of life, then annotates and documents one', async () => {
  const { page } = browser;
  // A small tagged image with nothing attached, copied to staging under a fresh name.
  const source = seed.items.find((item) => item.kind === 'image' && item.reference && !item.repository.startsWith('upstream/')
    && !seed.items.some((other) => other.subject === item.digest));
  const repository = `attach/e2e-${Date.now().toString(36)}`;
  await signIn(page, 'admin');
  const { csrf } = await (await page.request.get(`${baseUrl}/api/v1/me`)).json();
  const headers = { 'x-csrf-token': csrf, origin: baseUrl };
  const planned = await page.request.post(`${baseUrl}/api/v1/copies`, {
    headers,
    data: { source: { registry, repository: source.repository }, digest: source.digest, destination: { registry: 'staging', repository }, tags: ['e2e'] },
  });
  assert.equal(planned.status(), 201, await planned.text());
  const copy = await planned.json();
  const ran = await page.request.post(`${baseUrl}/api/v1/copies/${copy.id}/execute`, { headers, data: { fingerprint: copy.plan.fingerprint, wait: true } });
  assert.equal(ran.status(), 200, await ran.text());
  const api = `${baseUrl}/api/v1/registries/staging/repositories/${repository}`;
  try {
    await markAnnotateAndDocument(page, repository, source, api);
  } finally {
    // Leave the stack as seeded, whatever happened above.
    const made = await page.request.post(`${baseUrl}/api/v1/plans`, {
      headers,
      data: { targets: [{ registry: 'staging', repository, reference: source.digest }] },
    });
    assert.equal(made.status(), 201, await made.text());
    const done = await page.request.post(`${baseUrl}/api/v1/plans/${(await made.json()).plan.id}/execute?wait=true`, { headers });
    assert.equal((await done.json()).state, 'done');
  }
});

async function markAnnotateAndDocument(page, repository, source, api) {
  await eventually('the copy in the index', async () => (await page.request.get(`${api}/@${source.digest}`)).ok());

  // From the search page to the end-of-life page, which lists what it will mark.
  await gotoHydrated(page, `/search?q=${encodeURIComponent(`registry:staging repo:${repository}`)}`);
  await page.locator('#attach-results').click();
  await page.locator('#bulk-attach').waitFor();
  await page.waitForLoadState('networkidle');
  assert.match(await page.locator('#bulk-attach').innerText(), /^1 artifact found by/);
  await page.locator('#bulk-eol').fill('2020-03-31');
  await snapshot(page, 'bulk-attach');
  await page.locator('#bulk-mark-eol').click();
  await page.locator('#bulk-attached').waitFor();
  assert.match(await page.locator('#bulk-attached').innerText(), /^Attached to 1 of 1\./);
  await eventually('the end of life on the copy', async () => {
    const shown = await (await page.request.get(`${api}/@${source.digest}`)).json();
    return shown.badges?.end_of_life === '2020-03-31' && shown.badges?.expired === true;
  });

  // Annotations and a document from the artifact page, whose end-of-life badge is now red.
  await gotoHydrated(page, `/r/staging/${repository}/@${source.digest}`);
  const badge = page.locator('.artifact-head .badge-expired');
  assert.equal(await badge.innerText(), 'EOL 2020-03-31 · expired');
  assert.equal(await badge.evaluate((element) => {
    const [r, g, b] = getComputedStyle(element).color.match(/\d+/g).map(Number);
    return r > g + 40 && r > b + 40;
  }), true, 'the expired badge is red');
  await page.locator('#attach-annotations').fill('owner=team-e2e\nticket=REL-42');
  await page.locator('#add-annotations').click();
  await page.locator('#attached').waitFor();
  await page.locator('#attach-file').setInputFiles({ name: 'NOTES.md', mimeType: 'text/markdown', buffer: Buffer.from('# Released\n') });
  await page.locator('#attach-document').click();
  await page.locator('#attached-document').waitFor();
  assert.match(await page.locator('#attached-document').innerText(), /\(text\/markdown\)/);
  await eventually('the annotations on the copy', async () => {
    const shown = await (await page.request.get(`${api}/@${source.digest}`)).json();
    return shown.attached_annotations?.some((row) => row.annotation.key === 'owner' && row.by === 'admin');
  });
  await gotoHydrated(page, `/r/staging/${repository}/@${source.digest}`);
  const table = page.locator('#attached-annotations');
  await table.waitFor();
  assert.match(await table.innerText(), /owner\s+team-e2e\s+admin/);
  await snapshot(page, 'attached-annotations');
  expectNoErrors(browser);
}
