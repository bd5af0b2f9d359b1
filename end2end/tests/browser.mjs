// Shared setup for the end-to-end tests: Debian's Chromium through playwright-core, a fresh
// profile per run, and a record of console errors so every test can assert there were none.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const baseUrl = process.env.OCICAT_URL ?? 'http://127.0.0.1:3000';
export const registry = process.env.OCICAT_REGISTRY ?? 'local';
/** The registry's own base URL (anonymous pull, push and delete), as ocicat's `local`. */
export const registryUrl = process.env.OCICAT_REGISTRY_URL;
export const seed = JSON.parse(readFileSync(process.env.OCICAT_SEED_REPORT, 'utf8'));

export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'ocicat-e2e-'));
  // The profile is thrown away with the test process.
  process.on('exit', () => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { context, page, errors };
}

/** Waits until the wasm bundle has been fetched and the page has gone quiet (hydrated). */
export async function gotoHydrated(page, path) {
  const wasm = page.waitForResponse((response) => response.url().endsWith('/pkg/ocicat.wasm'));
  await page.goto(baseUrl + path);
  await wasm;
  await page.waitForLoadState('networkidle');
}

/** Where the suite saves its screenshots (test artifacts): target/e2e-screenshots by default. */
export const screenshotDir = process.env.OCICAT_SCREENSHOTS ?? join(process.cwd(), '..', 'target', 'e2e-screenshots');

/** Saves a full-page screenshot of what the test sees as `<name>.png`. */
export async function snapshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** The second server on the same registry, where visitors see nothing until they sign in. */
export const strictUrl = process.env.OCICAT_STRICT_URL;
/** The stack's users and their passwords for this run: `admin` and `alice` (views demo/*). */
export const users = JSON.parse(process.env.OCICAT_USERS ?? '{}');

/** Signs in through the sign-in page of `url` (the main server by default). */
export async function signIn(page, user, url = baseUrl) {
  await page.goto(`${url}/login`);
  await page.locator('#login-name').fill(user);
  await page.locator('#login-password').fill(users[user]);
  await Promise.all([page.waitForURL((target) => !target.pathname.startsWith('/login')), page.locator('.login-form button[type=submit]').click()]);
}
