// The crawl status page: every registry with its progress and health, the error of the one that
// is down shown in full, and "refresh now" starting a crawl whose completion the page shows on
// its own (it refreshes itself every few seconds).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gotoHydrated, openBrowser, registry, signIn, snapshot } from './browser.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
  // Crawl internals and "refresh now" are for administrators.
  await signIn(browser.page, 'admin');
});
after(async () => { await browser?.context.close(); });

const crawlsOf = (page, name) => page.locator(`[data-registry="${name}"] dt:text-is("Crawls since start") + dd`).innerText();

test('each registry shows its progress, and the unreachable one its error in full', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/status');
  const local = page.locator(`[data-registry="${registry}"]`);
  assert.match(await local.innerText(), /up to date/);
  assert.match(await local.locator('[data-testid=crawl-progress]').innerText(), /^(\d+) of \1 repositories/);
  const offline = page.locator('[data-registry="offline"]');
  assert.match(await offline.innerText(), /unreachable/);
  assert.match(await offline.locator('.error-detail pre').innerText(), /registry .*(unreachable|failing)/);
  await snapshot(page, 'status');
});

test('refresh now starts a crawl and the page shows it finish without a reload', async () => {
  const { page } = browser;
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
});

test('visitors see each registry\'s state but no crawl internals and no refresh button', async () => {
  const visitor = await openBrowser();
  try {
    await gotoHydrated(visitor.page, '/status');
    const offline = visitor.page.locator('[data-registry="offline"]');
    assert.match(await offline.innerText(), /unreachable/);
    assert.equal(await visitor.page.locator('button.refresh').count(), 0);
    assert.equal(await visitor.page.locator('.error-detail').count(), 0);
    assert.equal(await visitor.page.locator('dt', { hasText: 'Rate limit' }).count(), 0);
    // Crawl progress is a fact about the whole registry: administrators of all of it only.
    assert.equal(await visitor.page.locator('[data-testid=crawl-progress]').count(), 0);
    assert.match(await offline.innerText(), /shown to administrators of the whole registry/);
    await visitor.page.locator('.usermenu a.signin').waitFor();
  } finally {
    await visitor.context.close();
  }
});

test('no page logged a console error', () => {
  assert.deepEqual(browser.errors.filter((text) => !text.includes('404')), []);
});
