// Look and access: every main page readable in light and dark mode (text contrast at WCAG AA),
// laid out for a phone without sideways scrolling, and usable from the keyboard alone with a
// visible focus. Screenshots of each page in each mode are saved with the others. Each test
// starts in a fresh browser context and checks that its pages logged no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectNoErrors, gotoHydrated, registry, seed, snapshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

const image = seed.items.find((item) => item.kind === 'image' && item.reference);
const pages = {
  home: '/',
  login: '/login',
  registry: `/r/${registry}`,
  repository: `/r/${registry}/${image.repository}`,
  artifact: `/r/${registry}/${image.repository}/@${image.digest}`,
  search: '/search?q=kind%3Asbom',
  status: '/status',
};

/** The lowest contrast ratio (WCAG 2) between the text of `selectors` and what is behind it. */
function lowestContrast(selectors) {
  const channels = (color) => (color.match(/[\d.]+/g) ?? []).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (value) => { const c = value / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a = 1] = channels(getComputedStyle(node).backgroundColor);
      if (a > 0.5) return [r, g, b];
    }
    return [255, 255, 255];
  };
  let lowest = { ratio: Infinity, selector: null, text: null };
  for (const selector of selectors) {
    for (const element of [...document.querySelectorAll(selector)].slice(0, 20)) {
      if (!element.textContent.trim() || element.getClientRects().length === 0) continue;
      const [fore, back] = [luminance(channels(getComputedStyle(element).color)), luminance(background(element))];
      const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
      if (ratio < lowest.ratio) lowest = { ratio, selector, text: element.textContent.trim().slice(0, 40) };
    }
  }
  return lowest;
}

const textSelectors = ['body', 'h1', 'h2', 'p', 'a', 'td', 'th', 'dt', 'dd', '.muted', '.badge', 'button', 'code', 'summary', 'label'];

for (const scheme of ['light', 'dark']) {
  test(`every main page in ${scheme} mode keeps text at 4.5:1 contrast or more`, async () => {
    const { page } = browser;
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, path] of Object.entries(pages)) {
      await gotoHydrated(page, path);
      const dark = await page.evaluate(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return (r + g + b) / 3 < 96;
      });
      assert.equal(dark, scheme === 'dark', `${name}: the page background follows the ${scheme} scheme`);
      const lowest = await page.evaluate(lowestContrast, textSelectors);
      assert.ok(Number.isFinite(lowest.ratio), `${name}: some text was measured`);
      assert.ok(lowest.ratio >= 4.5, `${name} (${scheme}): ${lowest.selector} "${lowest.text}" has contrast ${lowest.ratio.toFixed(2)}`);
      await snapshot(page, `${name}-${scheme}`);
    }
    expectNoErrors(browser);
  });
}

test('on a phone every main page fits the width: nothing scrolls sideways but tables', async () => {
  const { page } = browser;
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    for (const [name, path] of Object.entries(pages)) {
      await gotoHydrated(page, path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than a 390px phone`);
      await snapshot(page, `${name}-phone`);
    }
  } finally {
    await page.setViewportSize(size);
  }
  expectNoErrors(browser);
});

/** Presses Tab until `predicate` holds for the focused element; fails after `limit` presses. */
async function tabTo(page, description, predicate, limit = 150) {
  for (let pressed = 0; pressed < limit; pressed += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return;
  }
  assert.fail(`${limit} presses of Tab never reached ${description}`);
}

/** The focused element shows a focus ring (an outline that is drawn). */
async function focusIsVisible(page) {
  return page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
  });
}

test('keyboard only: skip link, search, a facet, a result, and the copy button, each with a visible focus', async () => {
  const { page } = browser;
  await gotoHydrated(page, '/');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  assert.ok(await focusIsVisible(page), 'the skip link shows its focus');
  assert.ok(await page.evaluate(() => document.activeElement.getBoundingClientRect().top >= 0), 'the skip link comes into view');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'the skip link moves focus to the content');

  // The header ends with its search box, then "Sign in".
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Sign in');
  assert.ok(await focusIsVisible(page), 'the sign-in link shows its focus');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'top-search');
  assert.ok(await focusIsVisible(page), 'the search box shows its focus');
  await page.keyboard.type('kind:image');
  await Promise.all([page.waitForURL(/\/search\?q=kind%3Aimage/), page.keyboard.press('Enter')]);
  await page.locator('[data-testid="result-count"]').waitFor();

  await tabTo(page, 'a facet', () => document.activeElement.matches('a.facet'));
  assert.ok(await focusIsVisible(page), 'the facet shows its focus');
  const { field, value } = await page.evaluate(() => ({ ...document.activeElement.dataset }));
  await Promise.all([
    page.waitForURL((url) => (url.searchParams.get('q') ?? '').includes(`${field}:"${value}"`)),
    page.keyboard.press('Enter'),
  ]);

  await tabTo(page, 'a result', () => document.activeElement.matches('main a[href*="/@sha256:"]'));
  assert.ok(await focusIsVisible(page), 'the result link shows its focus');
  const target = await page.evaluate(() => document.activeElement.getAttribute('href'));
  await Promise.all([page.waitForURL((url) => url.pathname === target.split('?')[0]), page.keyboard.press('Enter')]);
  await page.locator('.facts').waitFor();

  await tabTo(page, 'the copy button of the pull command', () => document.activeElement.matches('.pull button'));
  assert.ok(await focusIsVisible(page), 'the copy button shows its focus');
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await page.keyboard.press('Enter');
  const pull = await page.locator('.pull code').innerText();
  await page.waitForFunction(async (expected) => (await navigator.clipboard.readText()) === expected, pull);
  await snapshot(page, 'keyboard-artifact');
  expectNoErrors(browser);
});
