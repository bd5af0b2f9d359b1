// Signature verdicts in Chromium. The stack trusts the seeder's demo key (policy "demo"); the
// seed holds genuine cosign signatures and one copied onto another image's `.sig` tag. Which is
// which is read from the registry (the digest each payload names), never from ocicat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectNoErrors, gotoHydrated, registry, registryUrl, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();
const href = (repository, digest) => `/r/${registry}/${repository}/@${digest}`;

/** The seeded cosign `.sig` signatures, each with whether its payload signs its subject. */
async function cosignSignatures() {
  const signatures = [];
  for (const item of seed.items.filter((entry) => entry.kind === 'signature' && entry.reference?.endsWith('.sig'))) {
    const manifest = await (await fetch(`${registryUrl}/v2/${item.repository}/manifests/${item.digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })).json();
    const payload = await (await fetch(`${registryUrl}/v2/${item.repository}/blobs/${manifest.layers[0].digest}`)).json();
    signatures.push({ ...item, genuine: payload.critical.image['docker-manifest-digest'] === item.subject });
  }
  assert.ok(signatures.some((item) => item.genuine) && signatures.some((item) => !item.genuine), 'genuine and copied signatures are seeded');
  return signatures;
}

test('a copied signature is found by signature:invalid and its badge says why', async () => {
  const { page } = browser;
  const copied = (await cosignSignatures()).filter((item) => !item.genuine);
  await gotoHydrated(page, '/search?q=' + encodeURIComponent('signature:invalid'));
  const hits = await page.locator('a.hit-name').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
  assert.deepEqual(hits.sort(), copied.map((item) => href(item.repository, item.subject)).sort());
  await gotoHydrated(page, href(copied[0].repository, copied[0].subject));
  const badge = page.locator('.artifact-head .badges [data-signature]');
  assert.equal(await badge.innerText(), '✗ invalid signature');
  assert.match(await badge.getAttribute('title'), /^signs sha256:[0-9a-f]{12}…, not this artifact/);
  // The referrers tree marks the signature itself.
  const line = page.locator('#referrers .referrer-line', { has: page.locator(`code.digest[title="${copied[0].digest}"]`) });
  assert.equal(await line.locator('[data-signature]').innerText(), '✗ invalid signature');
  await snapshot(page, 'trust-invalid');
  expectNoErrors(browser);
});

test('a genuine signature is verified by the policy, on the badge and in the signatures panel', async () => {
  const { page } = browser;
  const genuine = (await cosignSignatures()).find((item) => item.genuine);
  await gotoHydrated(page, href(genuine.repository, genuine.subject));
  const badge = page.locator('.artifact-head .badges [data-signature]');
  assert.equal(await badge.innerText(), '✓ verified · demo');
  assert.match(await badge.getAttribute('title'), /policy demo$/);
  const panel = page.locator('#signatures');
  await panel.locator('table.signatures').waitFor();
  const row = panel.locator('tbody tr', { has: page.locator(`a[href$="/@${genuine.digest}"]`) });
  assert.equal(await row.locator('[data-verdict]').innerText(), '✓ verified · demo');
  assert.match(await row.locator('.verdict-reason').innerText(), /^signed with ecdsa p-256 key sha256:[0-9a-f]{16}… of policy demo$/);
  const line = page.locator('#referrers .referrer-line', { has: page.locator(`code.digest[title="${genuine.digest}"]`) });
  assert.equal(await line.locator('[data-signature]').innerText(), '✓ verified · demo');
  await panel.scrollIntoViewIfNeeded();
  await snapshot(page, 'trust-verified');
  expectNoErrors(browser);
});

/** The seeded signature referrers (not `.sig` tags) with their artifact type, from the registry. */
async function typedSignatures() {
  const typed = [];
  for (const item of seed.items.filter((entry) => entry.kind === 'signature' && !entry.reference)) {
    const manifest = await (await fetch(`${registryUrl}/v2/${item.repository}/manifests/${item.digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })).json();
    typed.push({ ...item, artifactType: manifest.artifactType ?? manifest.config?.mediaType });
  }
  return typed;
}

test('notation signatures and sigstore bundles of the demo signer are verified by the same policy', async () => {
  const { page } = browser;
  const typed = await typedSignatures();
  const notation = typed.find((item) => item.artifactType === 'application/vnd.cncf.notary.signature');
  const bundle = typed.find((item) => item.artifactType?.startsWith('application/vnd.dev.sigstore.bundle'));
  assert.ok(notation && bundle, 'a notation signature and a sigstore bundle are seeded');
  // A notation signature's own page: verified because the demo certificate is a notation root.
  await gotoHydrated(page, href(notation.repository, notation.digest));
  const verdicts = page.locator('#verdicts');
  assert.equal(await verdicts.locator('[data-verdict]').first().innerText(), '✓ verified · demo');
  assert.match(
    await verdicts.locator('.verdict-reason').first().innerText(),
    /^notation: signed by certificate CN=ocicat demo signer, O=ocicat demo, chained to a root of policy demo$/,
  );
  // The bundle's subject lists it in its signatures panel as verified, made with the demo key.
  await gotoHydrated(page, href(bundle.repository, bundle.subject));
  const panel = page.locator('#signatures');
  await panel.locator('table.signatures').waitFor();
  const row = panel.locator('tbody tr', { has: page.locator(`a[href$="/@${bundle.digest}"]`) });
  assert.equal(await row.locator('[data-verdict]').first().innerText(), '✓ verified · demo');
  assert.match(await row.locator('.verdict-reason').first().innerText(), /^sigstore bundle signed with ecdsa p-256 key sha256:[0-9a-f]{16}… of policy demo$/);
  await snapshot(page, 'trust-bundle');
  expectNoErrors(browser);
});

test('a production keyless signature is verified by its Fulcio certificate and Rekor entry for the signer the policy names', async () => {
  const { page } = browser;
  const keyless = seed.items.find((item) => item.repository === 'upstream/cosign-keyless' && item.kind === 'signature');
  assert.ok(keyless, 'the keyless sample is seeded');
  await gotoHydrated(page, href(keyless.repository, keyless.digest));
  const verdicts = page.locator('#verdicts');
  assert.equal(await verdicts.locator('[data-verdict]').first().innerText(), '✓ verified · upstream');
  assert.equal(
    await verdicts.locator('.verdict-reason').first().innerText(),
    'keyless: mitr@redhat.com (issuer https://github.com/login/oauth), logged in Rekor at 2023-01-20T20:51:33+00:00 (index 11605770), allowed by policy upstream',
  );
  await snapshot(page, 'trust-keyless');
  expectNoErrors(browser);
});
