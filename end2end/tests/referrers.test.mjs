// The referrers tree on an artifact page, like `oras discover`: every seeded referrer of the
// busiest subject is listed, and the type filter, the order and the top-N control reshape the
// tree in place, with the choice in the URL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gotoHydrated, openBrowser, registry, seed, snapshot } from './browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(async () => { await browser?.context.close(); });

// The subject with the most direct referrers (subjects, cosign targets and attested images).
const referrersOf = seed.items.reduce((map, item) => {
  if (item.subject) map.set(item.subject, [...(map.get(item.subject) ?? []), item]);
  return map;
}, new Map());
const [subjectDigest, direct] = [...referrersOf.entries()].sort((a, b) => b[1].length - a[1].length)[0];
const subject = seed.items.find((item) => item.digest === subjectDigest);

const topLevelDigests = (page) => page.locator('#referrers > ul.referrer-tree > li > .referrer-line code.digest')
  .evaluateAll((codes) => codes.map((code) => code.title));

test('the tree lists every direct referrer and narrows by type, order and top N in place', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  await page.locator('#referrers').waitFor();
  const listed = await topLevelDigests(page);
  assert.deepEqual(new Set(listed), new Set(direct.map((item) => item.digest)), 'every seeded referrer, nothing else');
  assert.ok(listed.length >= 3, `several referrers to reshape: ${listed.length}`);
  // Hovering a node tells how the crawler found it.
  const found = await page.locator('#referrers > ul.referrer-tree > li > .referrer-line').evaluateAll((lines) => lines.map((line) => line.title));
  assert.ok(found.every((title) => /^Found through the (referrers API|fallback tag|cosign tag|attestation manifest|subject field)/.test(title)), `${found}`);
  assert.ok(found.some((title) => title.includes('fallback tag')) && found.some((title) => title.includes('cosign tag')), `${found}`);
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });

  await page.locator('#referrer-top').selectOption('1');
  await page.waitForURL(/top=1/);
  await page.waitForFunction(() => document.querySelector('[data-testid=referrer-count]')?.textContent.startsWith('1 of'));
  assert.equal((await topLevelDigests(page)).length, 1);

  await page.locator('#referrer-top').selectOption('0');
  await page.locator('#referrer-order').selectOption('oldest');
  await page.waitForURL(/order=oldest/);
  // The list of all (top=0) may show before the oldest-first answer: wait for the order itself,
  // and fail with what is shown if it never comes.
  const reversed = [...listed].reverse();
  await page.waitForFunction((expected) => {
    const codes = [...document.querySelectorAll('#referrers > ul.referrer-tree > li > .referrer-line code.digest')];
    return codes.map((code) => code.title).join() === expected.join();
  }, reversed, { timeout: 10_000 }).catch(() => {});
  const oldestFirst = await topLevelDigests(page);
  assert.deepEqual(oldestFirst, reversed, 'oldest first is newest first reversed');

  const firstType = await page.locator('#referrer-type option').nth(1).getAttribute('value');
  await page.locator('#referrer-type').selectOption(firstType);
  await page.waitForURL(/artifactType=/);
  await page.waitForFunction((count) => document.querySelectorAll('#referrers > ul.referrer-tree > li').length < count, listed.length);
  const types = await page.locator('#referrers > ul.referrer-tree > li > .referrer-line .mono.small').allInnerTexts();
  assert.ok(types.length >= 1 && types.every((type) => type === firstType), `${types} all ${firstType}`);
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  await snapshot(page, 'referrers-filtered');
});

test('annotations of a referrer open on demand', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  const folded = page.locator('#referrers details.referrer-annotations').first();
  assert.equal(await folded.getAttribute('open'), null);
  assert.equal(await folded.locator('dl').isVisible(), false, 'folded at first');
  await folded.locator('summary').click();
  assert.equal(await folded.locator('dl').isVisible(), true);
  const keys = await folded.locator('dt').count();
  assert.match(await folded.locator('summary').innerText(), new RegExp(`^${keys} annotations?$`));
});

test('no page logged a console error', () => {
  assert.deepEqual(browser.errors.filter((text) => !text.includes('404')), []);
});
