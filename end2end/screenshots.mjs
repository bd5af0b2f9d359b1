// Takes screenshots of the main pages (not a test): node screenshots.mjs <out-dir> [width]
// Needs OCICAT_URL and OCICAT_SEED_REPORT like the tests.
import { gotoHydrated, openBrowser, registry, seed } from './tests/browser.mjs';

const out = process.argv[2] ?? '/tmp/ocicat-shots';
const width = Number(process.argv[3] ?? 1280);
const { browser, page } = await openBrowser();
await page.setViewportSize({ width, height: 900 });
const image = seed.items.find((item) => item.kind === 'image' && item.reference && item.repository === 'demo/app' && item.reference === '1.0.0')
  ?? seed.items.find((item) => item.kind === 'image' && item.reference);
const index = seed.items.find((item) => item.kind === 'index' && item.reference);
const pages = {
  home: '/',
  registry: `/r/${registry}`,
  repository: `/r/${registry}/${image.repository}`,
  artifact: `/r/${registry}/${image.repository}/@${image.digest}`,
  index: `/r/${registry}/${index.repository}/@${index.digest}`,
  search: '/search?q=kind%3Aimage',
  vulns: '/search?q=vulns.critical%20%3E%200',
};
for (const [name, path] of Object.entries(pages)) {
  await gotoHydrated(page, path);
  await page.screenshot({ path: `${out}/${name}-${width}.png`, fullPage: true });
}
await browser.close();
