// The artifact page of a seeded image: its run configuration, read from the image config, and
// its raw manifest and config, which ride neither in the HTML nor in the hydration data but are
// fetched when their <details> is opened; the "Raw JSON" link serves the stored bytes without
// JavaScript. Each test starts in a fresh browser context and checks that its pages logged no
// error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, expectNoErrors, gotoHydrated, registry, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

// umoci builds demo/app with a command, a user, a working directory and PATH.
const image = seed.items.find((item) => item.repository === 'demo/app' && item.kind === 'image' && item.reference);
const artifactPath = `/r/${registry}/${image.repository}/@${image.digest}`;
const manifestHref = `/api/v1/registries/${registry}/repositories/${image.repository}/manifests/${image.digest}`;
const isRawJsonCall = (url) => /\/api\/get_raw_json/.test(url);

const detailsTitled = (page, title) => page.locator('details', { has: page.locator('summary', { hasText: title }) });
const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the run configuration shows the command, user, working directory and environment', async () => {
  const { page } = browser;
  const config = await (await page.request.get(`${baseUrl}${manifestHref}/config`)).json();
  await gotoHydrated(page, artifactPath);
  const panel = page.locator('#run-config');
  await panel.waitFor();
  const text = await panel.innerText();
  assert.match(text, /Run configuration/);
  assert.ok(config.config.Cmd.length > 0, 'the seeded image has a command');
  // The seeded arguments are plain words, so the shell form is the arguments joined by spaces.
  assert.match(text, new RegExp(`Command\\s+${escaped(config.config.Cmd.join(' '))}\\n`), text);
  assert.match(text, new RegExp(`Cmd \\(exec form\\)\\s+${escaped(JSON.stringify(config.config.Cmd))}`), text);
  assert.match(text, new RegExp(`User\\s+${escaped(config.config.User)}`), text);
  assert.match(text, new RegExp(`Working directory\\s+${escaped(config.config.WorkingDir)}`), text);
  for (const entry of config.config.Env) assert.ok(text.includes(entry), `${entry} in ${text}`);
  await panel.scrollIntoViewIfNeeded();
  await snapshot(page, 'artifact-run-config');
  expectNoErrors(browser);
});

test('the manifest and config JSON load when their details are opened, and only then', async () => {
  const { page } = browser;
  const calls = [];
  const record = (request) => { if (isRawJsonCall(request.url())) calls.push(request.url()); };
  page.on('request', record);
  try {
    await gotoHydrated(page, artifactPath);
    assert.equal(await page.locator('pre.json').count(), 0, 'nothing is shown before opening');
    assert.equal(calls.length, 0, 'nothing is fetched before opening');

    const manifest = detailsTitled(page, 'Manifest JSON');
    const loaded = page.waitForResponse((response) => isRawJsonCall(response.url()));
    await manifest.locator('summary').click();
    assert.equal((await loaded).status(), 200);
    const shown = await manifest.locator('pre.json').innerText();
    assert.match(shown, /"schemaVersion": 2/);
    const stored = await (await page.request.get(baseUrl + manifestHref)).json();
    assert.deepEqual(JSON.parse(shown), stored, 'the shown manifest is the stored one');

    // Closing and opening again shows it without asking again.
    await manifest.locator('summary').click();
    await manifest.locator('summary').click();
    assert.match(await manifest.locator('pre.json').innerText(), /"schemaVersion": 2/);
    assert.equal(calls.length, 1, `one request: ${calls}`);

    const config = detailsTitled(page, 'Config JSON');
    await config.locator('summary').click();
    assert.match(await config.locator('pre.json').innerText(), /"Cmd": \[/);
    assert.equal(calls.length, 2, `one more request: ${calls}`);
    await snapshot(page, 'artifact-raw-json');
  } finally {
    page.off('request', record);
  }
  expectNoErrors(browser);
});

test('the page source holds no raw manifest, and its raw JSON link works without JavaScript', async () => {
  const { page } = browser;
  const html = await (await page.request.get(baseUrl + artifactPath)).text();
  assert.ok(!html.includes('schemaVersion'), 'the manifest is neither in the HTML nor in the hydration data');
  await gotoHydrated(page, artifactPath);
  const link = page.locator('.raw-json', { has: page.locator('summary', { hasText: 'Manifest JSON' }) }).locator('a.raw-link');
  assert.equal(await link.getAttribute('href'), manifestHref);
  const response = await page.request.get(baseUrl + manifestHref);
  assert.equal(response.headers()['content-type'], 'application/json');
  assert.equal((await response.json()).schemaVersion, 2);
  // Followed in the hydrated page, the link leaves the app for the document itself.
  await Promise.all([page.waitForURL(baseUrl + manifestHref), link.click()]);
  assert.deepEqual(JSON.parse(await page.locator('body').innerText()), await response.json());
  // A JSON document names no icon: the browser asks for /favicon.ico, which ocicat does not serve.
  expectNoErrors(browser, { allow: [{ status: 404, url: '/favicon.ico' }] });
});

test('the pull command fits the kind: helm for charts, cosign for its signatures, oras for SBOMs; oras discover for a tree', async () => {
  const { page } = browser;
  const chart = seed.items.find((item) => item.kind === 'helm' && item.reference);
  const cosign = seed.items.find((item) => item.kind === 'signature' && item.reference?.endsWith('.sig'));
  const sbom = seed.items.find((item) => item.kind === 'sbom');
  for (const [item, pattern] of [
    [chart, new RegExp(`^helm pull oci://[^ ]+/${chart.repository} --version ${chart.reference}$`)],
    [cosign, new RegExp(`^cosign download signature [^ ]+/${cosign.repository}@sha256:[0-9a-f]{64}$`)],
    [sbom, new RegExp(`^oras pull [^ ]+/${sbom.repository}@${sbom.digest}$`)],
  ]) {
    await gotoHydrated(page, `/r/${registry}/${item.repository}/@${item.digest}`);
    await page.locator('.pull code').waitFor();
    assert.match(await page.locator('.pull code').innerText(), pattern, item.kind);
  }
  // Beside it, for an artifact with referrers, the command that shows their tree.
  const app = seed.items.find((item) => item.kind === 'image' && seed.items.some((other) => other.subject === item.digest));
  await gotoHydrated(page, `/r/${registry}/${app.repository}/@${app.digest}`);
  assert.match(await page.locator('.discover code').innerText(), new RegExp(`^oras discover [^ ]+/${app.repository}@${app.digest}$`));
  expectNoErrors(browser);
});
