// The crawl status page: every registry with its progress and health, the error of the one that
// is down shown in full, and "refresh now" starting a crawl whose completion the page shows on
// its own (it refreshes itself every few seconds). Crawl internals and "refresh now" are for
// administrators: those tests sign in as admin for themselves, in a fresh browser context; the
// visitor's test never signs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectNoErrors, gotoHydrated, registry, seed, signIn, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();
const repositories = new Set(seed.items.map((item) => item.repository)).size;

const crawlsOf = (page, name) => page.locator(`[data-registry="${name}"] dt:text-is("Crawls since start") + dd`).innerText();

test('each registry shows its progress, and the unreachable one its error in full', async () => {
  const { page } = browser;
  await signIn(page, 'admin');
  await gotoHydrated(page, '/status');
  const local = page.locator(`[data-registry="${registry}"]`);
  assert.match(await local.innerText(), /up to date/);
  assert.match(await local.locator('[data-testid=crawl-progress]').innerText(), new RegExp(`^${repositories} of ${repositories} repositories`));
  const offline = page.locator('[data-registry="offline"]');
  assert.match(await offline.innerText(), /unreachable/);
  assert.match(await offline.locator('.error-detail pre').innerText(), /registry .*(unreachable|failing)/);
  await snapshot(page, 'status');
  expectNoErrors(browser);
});

test('refresh now starts a crawl and the page shows it finish without a reload', async () => {
  const { page } = browser;
  await signIn(page, 'admin');
  await gotoHydrated(page, '/status');
  const before = Number(await crawlsOf(page, registry));
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });
  await page.locator(`[data-registry="${registry}"] button.refresh`).click();
  await page.locator(`[data-registry="${registry}"] [role=status]`, { hasText: 'Crawl requested' }).waitFor();
  await page.waitForFunction(({ name, count }) => {
    const panel = document.querySelector(`[data-registry="${name}"]`);
    const term = [...(panel?.querySelectorAll('dt') ?? [])].find((dt) => dt.textContent === 'Crawls since start');
    return Number(term?.nextElementSibling?.textContent) > count;
  }, { name: registry, count: before }, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  expectNoErrors(browser);
});

test('visitors see each registry\'s state but no crawl internals and no refresh button', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/status');
  const offline = page.locator('[data-registry="offline"]');
  assert.match(await offline.innerText(), /unreachable/);
  assert.equal(await page.locator('button.refresh').count(), 0);
  assert.equal(await page.locator('.error-detail').count(), 0);
  assert.equal(await page.locator('dt', { hasText: 'Rate limit' }).count(), 0);
  // Crawl progress is a fact about the whole registry: administrators of all of it only.
  assert.equal(await page.locator('[data-testid=crawl-progress]').count(), 0);
  assert.match(await offline.innerText(), /shown to administrators of the whole registry/);
  await page.locator('.usermenu a.signin').waitFor();
  expectNoErrors(browser);
});
