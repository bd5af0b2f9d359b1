// The referrers tree on an artifact page, like `oras discover`: every seeded referrer of the
// busiest subject is listed once, and the type filter, the order and the top-N control reshape
// the tree in place, with the choice in the URL; a referrer's annotations (as the registry's
// manifest has them) unfold on demand. Each test starts in a fresh browser context and checks
// that its pages logged no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectNoErrors, gotoHydrated, registry, registryManifest, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

// The subject with the most direct referrers (subjects, cosign targets and attested images).
const referrersOf = seed.items.reduce((map, item) => {
  if (item.subject) map.set(item.subject, [...(map.get(item.subject) ?? []), item]);
  return map;
}, new Map());
const [subjectDigest, direct] = [...referrersOf.entries()].sort((a, b) => b[1].length - a[1].length)[0];
const subject = seed.items.find((item) => item.digest === subjectDigest);

const topLevel = '#referrers > ul.referrer-tree > li';
const topLevelDigests = (page) => page.locator(`${topLevel} > .referrer-line code.digest`)
  .evaluateAll((codes) => codes.map((code) => code.title));

test('the tree lists every direct referrer and narrows by type, order and top N in place', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  await page.locator('#referrers').waitFor();
  const listed = await topLevelDigests(page);
  assert.deepEqual([...listed].sort(), direct.map((item) => item.digest).sort(), 'every seeded referrer, once, nothing else');
  assert.ok(listed.length >= 3, `several referrers to reshape: ${listed.length}`);
  assert.match(await page.locator('[data-testid=referrer-count]').innerText(), new RegExp(`^${listed.length}\\b`));
  // Hovering a node tells how the crawler found it.
  const found = await page.locator(`${topLevel} > .referrer-line`).evaluateAll((lines) => lines.map((line) => line.title));
  assert.ok(found.every((title) => /^Found through the (referrers API|fallback tag|cosign tag|attestation manifest|subject field)/.test(title)), `${found}`);
  assert.ok(found.some((title) => title.includes('fallback tag')) && found.some((title) => title.includes('cosign tag')), `${found}`);
  await page.evaluate(() => { window.__ocicatNoReload = 'still here'; });

  await page.locator('#referrer-top').selectOption('1');
  await page.waitForURL(/top=1/);
  await page.waitForFunction(() => document.querySelector('[data-testid=referrer-count]')?.textContent.startsWith('1 of'));
  assert.deepEqual(await topLevelDigests(page), [listed[0]], 'the newest one');

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

  // Each top-level line names its artifact type: filtering by the first type in the list keeps
  // exactly the lines of that type.
  const typeOf = new Map(await page.locator(`${topLevel} > .referrer-line`).evaluateAll((lines) => lines.map((line) => [line.querySelector('code.digest').title, line.querySelector('.mono.small').textContent])));
  const firstType = await page.locator('#referrer-type option').nth(1).getAttribute('value');
  const ofType = oldestFirst.filter((digest) => typeOf.get(digest) === firstType);
  assert.ok(ofType.length > 0 && ofType.length < listed.length, `${firstType} narrows the ${listed.length} referrers`);
  await page.locator('#referrer-type').selectOption(firstType);
  await page.waitForURL(/artifactType=/);
  await page.waitForFunction((count) => document.querySelectorAll('#referrers > ul.referrer-tree > li').length === count, ofType.length);
  assert.deepEqual(await topLevelDigests(page), ofType, `the ${firstType} referrers, still oldest first`);
  assert.equal(await page.evaluate(() => window.__ocicatNoReload), 'still here');
  await snapshot(page, 'referrers-filtered');
  expectNoErrors(browser);
});

test('annotations of a referrer open on demand', async () => {
  const { page } = browser;
  await gotoHydrated(page, `/r/${registry}/${subject.repository}/@${subject.digest}`);
  const node = page.locator(`${topLevel}`, { has: page.locator(':scope > details.referrer-annotations') }).first();
  const digest = await node.locator(':scope > .referrer-line code.digest').getAttribute('title');
  const folded = node.locator(':scope > details.referrer-annotations');
  assert.equal(await folded.getAttribute('open'), null);
  assert.equal(await folded.locator('dl').isVisible(), false, 'folded at first');
  await folded.locator('summary').click();
  assert.equal(await folded.locator('dl').isVisible(), true);
  const shown = await folded.locator('dl > div').evaluateAll((pairs) => pairs.map((pair) => [pair.querySelector('dt').textContent, pair.querySelector('dd').textContent]));
  const annotations = Object.entries((await registryManifest(subject.repository, digest)).annotations ?? {});
  assert.deepEqual([...shown].sort(), annotations.sort(), `the annotations of ${digest} in the registry`);
  assert.equal(await folded.locator('summary').innerText(), `${annotations.length} annotation${annotations.length === 1 ? '' : 's'}`);
  expectNoErrors(browser);
});
