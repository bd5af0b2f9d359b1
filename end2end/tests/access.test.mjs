// Access control in Chromium, on the second server where visitors see nothing: the sign-in
// page (a wrong password, then alice's), only alice's repositories (demo/* of local) in every
// listing, a guessed address of another repository is "not found", API tokens made and revoked
// on the tokens page, and sign-out ending it all. Every test starts signed out in a fresh
// browser context and signs in itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactCount, expectNoErrors, gotoHydrated, registry, seed, signIn, snapshot, strictUrl, useBrowser, users } from './browser.mjs';

const browser = useBrowser();

const repositories = [...new Set(seed.items.map((item) => item.repository))];
const allowed = repositories.filter((name) => /^demo\/[^/]+$/.test(name)).sort();
const hidden = repositories.filter((name) => !allowed.includes(name));
const artifactsOfAllowed = new Set(seed.items.filter((item) => allowed.includes(item.repository)).map((item) => `${item.repository}@${item.digest}`));

/** Goes to `path` on the strict server and waits until the page is hydrated. */
const open = (page, path) => gotoHydrated(page, path, strictUrl);

test('visitors are sent to sign in, and a wrong password gets one plain message', async () => {
  const { page } = browser;
  assert.ok(allowed.length > 0 && hidden.length > 0, 'the seed has repositories on both sides');
  await page.goto(`${strictUrl}/r/${registry}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/r/${registry}`);
  await page.locator('#login-name').fill('alice');
  await page.locator('#login-password').fill(`not ${users.alice}`);
  await Promise.all([page.waitForURL(/failed=1/), page.locator('.login-form button[type=submit]').click()]);
  assert.match(await page.locator('.form-error').innerText(), /name or password is wrong/);
  await snapshot(page, 'login-failed');
  // Still nobody: the registry is still behind the sign-in page.
  await page.goto(`${strictUrl}/r/${registry}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  expectNoErrors(browser);
});

test('alice signs in and sees only demo/* of local, everywhere', async () => {
  const { page } = browser;
  // Signing in from the page a visitor was sent away from leads back to it.
  await signIn(page, 'alice', { url: strictUrl, next: `/r/${registry}` });
  await page.locator('a.repo-link').first().waitFor();
  assert.deepEqual((await page.locator('a.repo-link').allInnerTexts()).sort(), allowed);
  assert.match(await page.locator('.usermenu .username').innerText(), /^alice$/);
  await open(page, '/');
  const card = page.locator('.registry-card', { hasText: registry });
  assert.match(await card.innerText(), new RegExp(`Repositories\\s+${allowed.length}\\b`, 'i'));
  await open(page, '/search?q=');
  assert.equal(await page.locator('[data-testid=result-count]').innerText(), artifactCount(artifactsOfAllowed.size));
  const names = await page.locator('.hit-name').allInnerTexts();
  assert.ok(names.length > 0);
  assert.ok(names.every((name) => allowed.some((repository) => name.includes(repository))), `hits: ${names}`);
  await snapshot(page, 'signed-in-search');
  expectNoErrors(browser);
});

test('a guessed address of another repository is not found', async () => {
  const { page } = browser;
  await signIn(page, 'alice', { url: strictUrl });
  const item = seed.items.find((entry) => hidden.includes(entry.repository));
  const artifact = `/r/${registry}/${item.repository}/@${item.digest}`;
  await open(page, artifact);
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
  const repository = `/r/${registry}/${item.repository}`;
  await open(page, repository);
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
  // The same answer as for a repository that does not exist at all.
  const nowhere = `/r/${registry}/${item.repository}-nowhere`;
  await open(page, nowhere);
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
  expectNoErrors(browser, { allow: [artifact, repository, nowhere].map((url) => ({ status: 404, url })) });
});

test('an API token made on the tokens page works once shown, and stops when revoked', async () => {
  const { page } = browser;
  await signIn(page, 'alice', { url: strictUrl });
  const name = `e2e job ${Date.now()}`;
  await open(page, '/tokens');
  await page.locator('#token-name').fill(name);
  await page.locator('.token-form button[type=submit]').click();
  const secret = (await page.locator('[data-testid=new-token]').innerText()).trim();
  assert.match(secret, /^ocicat_[A-Za-z0-9_-]{43}$/);
  await page.locator('tr[data-token]', { hasText: name }).waitFor();
  await snapshot(page, 'tokens-created');
  const withToken = () => fetch(`${strictUrl}/api/v1/registries/${registry}/repositories`, { headers: { authorization: `Bearer ${secret}` } });
  const answer = await withToken();
  assert.equal(answer.status, 200);
  assert.deepEqual((await answer.json()).rows.map((row) => row.name).sort(), allowed);
  await open(page, '/tokens');
  assert.ok(!(await page.content()).includes(secret), 'the secret is shown once only');
  await page.locator('tr[data-token]', { hasText: name }).locator('button.danger').click();
  await page.locator('tr[data-token]', { hasText: name }).waitFor({ state: 'detached' });
  assert.equal((await withToken()).status, 401);
  expectNoErrors(browser);
});

test('signing out ends the session', async () => {
  const { page, context } = browser;
  await signIn(page, 'alice', { url: strictUrl });
  const session = (await context.cookies(strictUrl)).map(({ name, value }) => `${name}=${value}`).join('; ');
  const withSession = () => fetch(`${strictUrl}/api/v1/registries/${registry}/repositories`, { headers: { cookie: session } });
  assert.equal((await withSession()).status, 200, 'the session cookie reads the API while signed in');
  await open(page, '/');
  await Promise.all([page.waitForURL(/\/login\?signed_out=1/), page.locator('.usermenu button', { hasText: 'Sign out' }).click()]);
  assert.match(await page.locator('[role=status]').innerText(), /signed out/);
  await page.goto(`${strictUrl}/`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal((await withSession()).status, 401, 'the old session cookie is dead on the server too');
  expectNoErrors(browser);
});
