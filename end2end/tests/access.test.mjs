// Access control in Chromium, on the second server where visitors see nothing: the sign-in
// page (a wrong password, then alice's), only alice's repositories (demo/* of local) in every
// listing, a guessed address of another repository is "not found", API tokens made and revoked
// on the tokens page, and sign-out ending it all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, registry, seed, snapshot, strictUrl, users } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

const repositories = [...new Set(seed.items.map((item) => item.repository))];
const allowed = repositories.filter((name) => /^demo\/[^/]+$/.test(name)).sort();
const hidden = repositories.filter((name) => !allowed.includes(name));

/** Goes to `path` on the strict server and waits until the page is hydrated. */
async function open(page, path) {
  const wasm = page.waitForResponse((response) => response.url().endsWith('/pkg/ocicat.wasm'));
  await page.goto(strictUrl + path);
  await wasm;
  await page.waitForLoadState('networkidle');
}

test('visitors are sent to sign in, and a wrong password gets one plain message', async () => {
  const { page } = browser;
  assert.ok(allowed.length > 0 && hidden.length > 0, 'the seed has repositories on both sides');
  await page.goto(`${strictUrl}/r/${registry}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/r/${registry}`);
  await page.locator('#login-name').fill('alice');
  await page.locator('#login-password').fill('not her password');
  await Promise.all([page.waitForURL(/failed=1/), page.locator('.login-form button[type=submit]').click()]);
  assert.match(await page.locator('.form-error').innerText(), /name or password is wrong/);
  await snapshot(page, 'login-failed');
});

test('alice signs in and sees only demo/* of local, everywhere', async () => {
  const { page } = browser;
  await page.locator('#login-name').fill('alice');
  await page.locator('#login-password').fill(users.alice);
  await Promise.all([page.waitForURL(`${strictUrl}/r/${registry}`), page.locator('.login-form button[type=submit]').click()]);
  await page.locator('a.repo-link').first().waitFor();
  assert.deepEqual((await page.locator('a.repo-link').allInnerTexts()).sort(), allowed);
  assert.match(await page.locator('.usermenu .username').innerText(), /^alice$/);
  await open(page, '/');
  const card = page.locator('.registry-card', { hasText: registry });
  assert.match(await card.innerText(), new RegExp(`Repositories\\s+${allowed.length}\\b`, 'i'));
  await open(page, '/search?q=');
  const names = await page.locator('.hit-name').allInnerTexts();
  assert.ok(names.length > 0);
  assert.ok(names.every((name) => allowed.some((repository) => name.includes(repository))), `hits: ${names}`);
  await snapshot(page, 'signed-in-search');
});

test('a guessed address of another repository is not found', async () => {
  const { page } = browser;
  const item = seed.items.find((entry) => hidden.includes(entry.repository));
  await open(page, `/r/${registry}/${item.repository}/@${item.digest}`);
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
  await open(page, `/r/${registry}/${item.repository}`);
  assert.match(await page.locator('.error-box h2').innerText(), /Not found/);
});

test('an API token made on the tokens page works once shown, and stops when revoked', async () => {
  const { page } = browser;
  await open(page, '/tokens');
  await page.locator('#token-name').fill('e2e job');
  await page.locator('.token-form button[type=submit]').click();
  const secret = (await page.locator('[data-testid=new-token]').innerText()).trim();
  assert.match(secret, /^ocicat_[A-Za-z0-9_-]{43}$/);
  await page.locator('tr[data-token]', { hasText: 'e2e job' }).waitFor();
  await snapshot(page, 'tokens-created');
  const withToken = () => fetch(`${strictUrl}/api/v1/registries/${registry}/repositories`, { headers: { authorization: `Bearer ${secret}` } });
  const answer = await withToken();
  assert.equal(answer.status, 200);
  assert.deepEqual((await answer.json()).rows.map((row) => row.name).sort(), allowed);
  await open(page, '/tokens');
  assert.ok(!(await page.content()).includes(secret), 'the secret is shown once only');
  await page.locator('tr[data-token]', { hasText: 'e2e job' }).locator('button.danger').click();
  await page.locator('tr[data-token]', { hasText: 'e2e job' }).waitFor({ state: 'detached' });
  assert.equal((await withToken()).status, 401);
});

test('signing out ends the session', async () => {
  const { page } = browser;
  await open(page, '/');
  await Promise.all([page.waitForURL(/\/login\?signed_out=1/), page.locator('.usermenu button', { hasText: 'Sign out' }).click()]);
  assert.match(await page.locator('[role=status]').innerText(), /signed out/);
  await page.goto(`${strictUrl}/`);
  assert.equal(new URL(page.url()).pathname, '/login');
});

test('no page logged a console error', () => {
  assert.deepEqual(browser.errors.filter((text) => !text.includes('404') && !text.includes('401')), []);
});
