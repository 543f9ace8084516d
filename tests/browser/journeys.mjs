#!/usr/bin/env node
// Browser journeys through the odr web UI, clicked in Debian's headless
// Chromium by playwright-core (no browser download: /usr/bin/chromium).
//
//   node tests/browser/journeys.mjs --base-url http://127.0.0.1:8080 \
//       --out target/browser [JOURNEY ...]
//
// Needs a server with the demo data (`odr seed-demo`). Runs every journey
// (mediation, settlement, access; or the ones named) one after another in
// one browser; each actor has a browser context of their own (own
// cookies): the customer on a 360 px phone, staff, mediator and admin on a
// desktop. Every page visited is screenshotted to
// OUT/JOURNEY/NN-ACTOR-STEP.png (but pages the access journey only passes
// through, seen in the other journeys already). Exits 0 when every journey passed, 1
// otherwise (with the failing page's URL, text and a screenshot
// named NN-FAILED-...png). A few pages are also shot as they fit the screen
// into OUT/docs/ for docs/screenshots/ (`make screenshots`).
//
// Every page must load without an error status (4xx, 5xx), a script error,
// a console error (a CSP violation is one) or a request to another origin,
// and, on the phone, without scrolling sideways. One page of each kind is
// audited by axe-core (WCAG 2.0/2.1 A and AA): a serious or critical
// violation fails the journey.

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const { values: opts, positionals } = parseArgs({
  options: {
    'base-url': { type: 'string', default: process.env.ODR_BASE_URL },
    out: { type: 'string', default: process.env.ODR_BROWSER_OUT ?? 'target/browser' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    // Milliseconds an action or a navigation may wait.
    timeout: { type: 'string', default: '15000' },
  },
  allowPositionals: true,
});
if (!opts['base-url']) {
  console.error('usage: journeys.mjs --base-url URL [--out DIR] [JOURNEY ...]');
  process.exit(2);
}
const BASE = opts['base-url'].replace(/\/$/, '');
const ORIGIN = new URL(BASE).origin;
const TIMEOUT = Number(opts.timeout);

/// The people `odr seed-demo` makes (crates/odr/src/bootstrap.rs).
export const DEMO = {
  admin: { email: 'admin@demo.odr.test', password: 'demo-admin-pass', device: 'desktop' },
  staff: { email: 'staff@demo-shop.test', password: 'demo-staff-pass', device: 'desktop' },
  mediator: { email: 'mediator@demo.odr.test', password: 'demo-mediator-pass', device: 'desktop' },
  customer: { email: 'customer@demo.odr.test', password: 'demo-customer-pass', device: 'phone' },
};

/// axe-core's source, evaluated in the page by the DevTools protocol: the
/// pages' CSP (script-src 'self') stays as it is, no inline script needed.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/// The kinds of page audited so far in this run: each once.
const audited = new Set();
let auditMs = 0;

const DEVICES = {
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
};

/// One journey's screenshots and page checks.
class Journey {
  constructor(browser, name) {
    this.browser = browser;
    this.name = name;
    this.dir = join(opts.out, name);
    this.shots = 0;
    this.problems = [];
    this.actors = [];
    this.violations = [];
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  /// A signed-out person in a browser context of their own; `who` (email,
  /// password, device) for someone not in the demo data.
  async actor(role, who = DEMO[role]) {
    const context = await this.browser.newContext({
      ...DEVICES[who.device],
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'Europe/Bratislava',
      reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(TIMEOUT);
    context.setDefaultNavigationTimeout(TIMEOUT);
    const page = await context.newPage();
    const problem = (what) => this.problems.push(`${role} on ${page.url()}: ${what}`);
    page.on('pageerror', (e) => problem(`script error: ${e.message}`));
    page.on('console', (m) => {
      // A failed load is reported with its URL by the response handler.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        problem(`console error: ${m.text()}`);
      }
    });
    page.on('response', (r) => {
      // The favicon Chromium asks for on its own is the only 4xx allowed,
      // besides the error page `gotoError` asks for.
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && path !== '/favicon.ico' && path !== actor.expectedError) {
        problem(`${r.status()} from ${r.request().method()} ${r.url()}`);
      }
    });
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== ORIGIN) {
        problem(`request to another origin: ${url}`);
      }
    });
    const actor = new Actor(this, role, who, context, page);
    this.actors.push(actor);
    return actor;
  }

  async close() {
    for (const a of this.actors.splice(0)) await a.close();
  }

  /// Throws what the page checks collected so far; with `end`, also the
  /// accessibility violations of every page audited.
  check(end = false) {
    if (end && this.violations.length) {
      const list = this.violations.splice(0);
      throw new Error(`accessibility violations (axe-core ${AXE_TAGS.join(', ')}):\n${list.join('\n')}`);
    }
    if (this.problems.length) {
      const list = this.problems.splice(0);
      throw new Error(`page problems:\n  ${list.join('\n  ')}`);
    }
  }

  path(actor, step) {
    this.shots += 1;
    const n = String(this.shots).padStart(2, '0');
    return join(this.dir, `${n}-${actor}-${step}.png`);
  }
}

class Actor {
  constructor(journey, role, who, context, page) {
    Object.assign(this, { journey, role, who, context, page });
  }

  /// Waits for the page to settle, checks it and screenshots it whole.
  /// With `doc`, also what fits the screen as OUT/docs/DOC.png: the
  /// pictures `make screenshots` copies to docs/screenshots/.
  /// `at` is scrolled to the top of the screen first (for the docs picture).
  /// A filled-in form is no new page: `formOnly` shots only its docs picture.
  /// `audit` names the kind of page: the first page of each kind is audited.
  /// `picture: false` checks a page passed through without a screenshot.
  async shot(step, { doc, at, formOnly = false, audit, picture = !formOnly } = {}) {
    await this.page.waitForLoadState('load');
    this.journey.check();
    if (this.who.device === 'phone') await this.fitsTheScreen();
    if (picture) {
      const path = this.journey.path(this.role, step);
      const t0 = Date.now();
      await this.page.screenshot({ path, fullPage: true, animations: 'disabled' });
      shotMs += Date.now() - t0;
    }
    if (doc) {
      // No focus ring of the field typed in last on the docs picture.
      await this.page.evaluate(() => document.activeElement?.blur?.());
      if (at) await at.evaluate((e) => e.scrollIntoView({ block: 'start' }));
      mkdirSync(join(opts.out, 'docs'), { recursive: true });
      await this.page.screenshot({ path: join(opts.out, 'docs', `${doc}.png`), animations: 'disabled' });
    }
    const what = formOnly ? '(form)' : new URL(this.page.url()).pathname;
    log(`    ${this.role.padEnd(8)} ${step.padEnd(28)} ${what}${doc ? `  [docs/${doc}.png]` : ''}`);
    if (audit) await this.audit(audit);
  }

  /// No scrolling sideways: the page is no wider than the screen.
  async fitsTheScreen() {
    const wider = await this.page.evaluate(() => {
      const width = document.scrollingElement.scrollWidth;
      if (width <= window.innerWidth) return null;
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className.trim() ? `.${e.className.trim().replaceAll(/\s+/g, '.')}` : ''}`);
      return `${width} px wide on a ${window.innerWidth} px screen (wider: ${wide.join(', ')})`;
    });
    if (wider) this.journey.problems.push(`${this.role} on ${this.page.url()}: ${wider}`);
  }

  /// axe-core on the page as it is, once per kind of page and run; serious
  /// and critical violations are kept for the journey's end.
  async audit(kind) {
    if (audited.has(kind)) return;
    audited.add(kind);
    const t0 = Date.now();
    await this.page.evaluate(AXE_SOURCE);
    const found = await this.page.evaluate(async (tags) => {
      const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      const found = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, url: v.helpUrl, targets: v.nodes.map((n) => n.target.join(' ')) }));
      // Every icon has a text label beside it: its parent holds words.
      const bare = [...document.images].filter((i) => !i.parentElement.textContent.trim());
      if (bare.length) {
        found.push({ id: 'icon-text-label', impact: 'serious', help: 'Every icon has a text label (docs/web.md, Accessibility)', url: 'docs/web.md', targets: bare.map((i) => i.outerHTML) });
      }
      return found;
    }, AXE_TAGS);
    auditMs += Date.now() - t0;
    for (const v of found) {
      this.journey.violations.push(
        `  ${kind} (${this.role}, ${new URL(this.page.url()).pathname}): ${v.id} [${v.impact}] ${v.help}\n` +
          `    ${v.url}\n${v.targets.map((t) => `    at ${t}`).join('\n')}`,
      );
    }
    log(`    ${this.role.padEnd(8)} audited ${kind}: ${found.length ? `${found.length} serious violations` : 'no serious violations'}`);
  }

  async goto(path) {
    const res = await this.page.goto(BASE + path);
    if (!res || res.status() >= 400) {
      throw new Error(`GET ${path} answered ${res?.status()}`);
    }
  }

  /// A page that answers `status`: the error page.
  async gotoError(path, status) {
    this.expectedError = path;
    const res = await this.page.goto(BASE + path);
    if (res?.status() !== status) throw new Error(`GET ${path} answered ${res?.status()}, not ${status}`);
  }

  /// Clicks and waits for the page it leads to.
  async click(locator) {
    await locator.click();
    await this.page.waitForLoadState('load');
    this.journey.check();
  }

  button(name, exact = false) {
    return this.page.getByRole('button', { name, exact });
  }

  link(name, exact = false) {
    return this.page.getByRole('link', { name, exact });
  }

  /// Waits for the notice a step leaves at the top of the page.
  async notice(text) {
    await this.page.getByRole('status').filter({ hasText: text }).waitFor();
  }

  /// Waits for `text` somewhere on the page.
  async sees(text) {
    await this.page.getByText(text, { exact: true }).first().waitFor();
  }

  /// A link of the site's main menu.
  nav(name) {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  }

  /// The sign-in form: Email, Password, "Sign in"; lands on the role's home.
  /// `docs` names docs pictures of the sign-in page and the home page.
  /// With `fromStart`, from the start page by the menu's link. `audit`
  /// names the kinds of the pages `start`, `signIn` and `home` to audit.
  async signIn(docs = {}, audit = {}) {
    if (docs.fromStart) {
      await this.goto('/');
      await this.shot('start', { doc: docs.start, audit: audit.start });
      await this.click(this.nav('Sign in'));
    } else {
      await this.goto('/sign-in');
    }
    await this.shot('sign-in', { doc: docs.signIn, audit: audit.signIn });
    // The form with the password (the other one mails a sign-in link).
    const form = this.page.locator('form', { has: this.page.getByLabel('Password', { exact: true }) });
    await form.getByLabel('Email', { exact: true }).fill(this.who.email);
    await form.getByLabel('Password', { exact: true }).fill(this.who.password);
    await this.click(form.getByRole('button', { name: 'Sign in', exact: true }));
    await this.page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
    await this.shot('home', { doc: docs.home, audit: audit.home });
  }

  async close() {
    await this.context.close();
  }
}

let shotMs = 0;
function log(line) {
  process.stdout.write(`${line}\n`);
}

// --- Journeys -------------------------------------------------------------------

/// A small PNG (a cracked "teapot lid": a disc with a dark zig-zag) made
/// here, so that the filing form uploads a real photo.
function photo() {
  const size = 96;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0]; // filter: none
    for (let x = 0; x < size; x++) {
      const dx = x - size / 2, dy = y - size / 2;
      const inside = dx * dx + dy * dy < (size / 2 - 4) ** 2;
      const crack = Math.abs(x - (size / 2 + 10 * Math.sin(y / 6))) < 2 && inside;
      const [r, g, b] = crack ? [40, 30, 30] : inside ? [196, 120, 80] : [245, 245, 240];
      row.push(r, g, b);
    }
    rows.push(Buffer.from(row));
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/// An order number no other run or journey uses: the lists are searched by it.
function orderNumber(tag) {
  return `WEB-${tag}-${Date.now().toString(36).toUpperCase()}`;
}

/// The customer files a complaint by clicking icons on /complaints/new,
/// reached from the menu; returns its reference (ODR-XXXX-XXXX).
async function fileComplaint(customer, { order, category, remedy, amount, description, docs = {} }) {
  const p = customer.page;
  await customer.click(customer.nav('Report a problem'));
  await customer.shot('new-complaint');
  await p.getByLabel('Shop', { exact: true }).selectOption({ label: 'Demo Shop' });
  const what = p.getByRole('group', { name: 'What went wrong?' });
  await what.getByRole('radio', { name: category, exact: true }).check();
  await p.getByRole('group', { name: 'What would put it right?' }).getByRole('radio', { name: remedy, exact: true }).check();
  if (amount) await p.getByLabel('Amount you claim').fill(amount);
  await p.getByLabel('Order number').fill(order);
  await p.getByLabel('What happened?').fill(description);
  await p.getByLabel('Photos or documents').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo() });
  await customer.shot('new-complaint-filled', { formOnly: true, doc: docs.filled, at: what, audit: 'filing form' });
  await customer.click(customer.button('File complaint', true));
  await p.waitForURL(/\/complaints\/[^/]+$/);
  await customer.notice('Your complaint is filed.');
  await customer.sees('photo.png');
  const reference = (await p.getByRole('heading', { level: 1 }).innerText()).match(/ODR-[0-9A-Z]{4}-[0-9A-Z]{4}/)?.[0];
  if (!reference) throw new Error('the complaint page shows no reference in its heading');
  await customer.shot('complaint-filed', { doc: docs.filed });
  return reference;
}

/// From the menu's list (My complaints, Inbox, Mediation queue) to the
/// complaint, by the link named with its reference.
async function openFromList(actor, menu, reference, doc) {
  const item = actor.nav(menu);
  if ((await item.getAttribute('aria-current')) !== 'page') {
    await actor.click(item);
    await actor.shot(menu.toLowerCase().replaceAll(' ', '-'), { doc });
  }
  await actor.click(actor.link(reference, true));
  await actor.page.waitForURL(/\/complaints\/[^/]+$/);
}

/// A form of the complaint page, found by its submit button's name.
function formOf(actor, button) {
  return actor.page.locator('form', { has: actor.button(button, true) });
}

/// The "What happens now" card of the complaint page.
function nextStep(actor) {
  return actor.page.getByRole('region', { name: 'What happens now' });
}

/// The shop makes an offer from the complaint page.
async function makeOffer(staff, { remedy, amount, message }, doc) {
  const form = formOf(staff, 'Make offer');
  await form.getByRole('radio', { name: remedy, exact: true }).check();
  if (amount) await form.getByLabel(/^Amount/).fill(amount);
  await form.getByLabel('Message (optional)').fill(message);
  await staff.shot('offer-filled', { formOnly: true, doc, at: staff.page.getByRole('heading', { name: 'Make an offer' }) });
  await staff.click(form.getByRole('button', { name: 'Make offer', exact: true }));
  await staff.notice('Your offer is sent.');
  await staff.shot('offer-made');
}

/// What a run without names runs; `sign-in` is a quick check of its own.
const DEFAULT_JOURNEYS = ['mediation', 'settlement', 'access'];

/// What has the keyboard focus: tag, id or name, text.
async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return 'nothing';
    const name = e.id ? `#${e.id}` : e.getAttribute('name') ? `[name=${e.getAttribute('name')}]` : '';
    return `${e.tagName.toLowerCase()}${name} "${(e.innerText || e.value || '').trim().slice(0, 40)}"`;
  });
}

/// In the page: whether `target` has the focus, and whether the focused
/// element shows a focus ring: an outline or a box shadow on it or, for an
/// icon tile's hidden radio button, on its label (the tile).
function focusRing(target) {
  const e = document.activeElement;
  if (!e || e === document.body) return { reached: false, shown: true };
  const shown = e.matches('.icon-choice input') ? e.nextElementSibling : e;
  const s = getComputedStyle(shown);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return { reached: e === target, shown: ring && e.matches(':focus-visible') };
}

/// Throws unless the focused element shows a focus ring.
async function assertFocusVisible(page) {
  if (!(await page.evaluate(focusRing, null)).shown) throw new Error(`no visible focus on ${await focused(page)}`);
}

/// Presses Tab (Shift+Tab with `back`) until `locator` has the focus,
/// checking the focus ring at every stop on the way.
async function tabTo(page, locator, { back = false, max = 40 } = {}) {
  const target = await locator.elementHandle();
  try {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      const { reached, shown } = await target.evaluate(focusRing);
      if (!shown) throw new Error(`no visible focus on ${await focused(page)}`);
      if (reached) return;
    }
  } finally {
    await target.dispose();
  }
  throw new Error(`${max} presses of Tab did not reach ${locator}; the focus is on ${await focused(page)}`);
}

/// Presses `key` on the focused element and waits for the page it leads to.
async function pressAndWait(actor, key, url) {
  await Promise.all([actor.page.waitForURL(url, { waitUntil: 'load' }), actor.page.keyboard.press(key)]);
  actor.journey.check();
}

/// In a group of icon tiles (radio buttons) reached by Tab, the arrow keys
/// move to the tile named `name` and Space chooses it.
async function chooseTile(page, group, name) {
  await tabTo(page, group.getByRole('radio').first());
  const target = group.getByRole('radio', { name, exact: true });
  for (let i = 0; i < 12 && !(await target.evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press('ArrowRight');
    await assertFocusVisible(page);
  }
  await page.keyboard.press('Space');
  if (!(await target.isChecked())) throw new Error(`the keyboard did not choose "${name}"; the focus is on ${await focused(page)}`);
}

/// The page's language (`<html lang>`).
async function lang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

const JOURNEYS = {
  /// Every demo person signs in and lands on a page of their own.
  async 'sign-in'(j) {
    for (const role of ['customer', 'staff', 'mediator', 'admin']) {
      const a = await j.actor(role);
      await a.signIn();
      await a.close();
    }
  },

  /// File by icons → offer → reject → offer again → escalate → the admin
  /// assigns a mediator → the mediator decides.
  async mediation(j) {
    const customer = await j.actor('customer');
    await customer.signIn({ fromStart: true, start: '01-start' }, { start: 'start page', signIn: 'sign-in', home: 'my complaints' });
    const reference = await fileComplaint(customer, {
      order: orderNumber('A'),
      category: 'Damaged',
      remedy: 'Partial refund',
      amount: '25.00',
      description: 'The lamp arrived with a cracked shade. I would like part of the price back.',
      docs: { filled: '02-customer-files-by-icons', filed: '03-customer-complaint-filed' },
    });

    const staff = await j.actor('staff');
    await staff.signIn({ home: '04-shop-inbox' }, { home: 'inbox' });
    await openFromList(staff, 'Inbox', reference);
    await staff.shot('complaint', { audit: 'complaint page (shop)' });
    const acknowledge = formOf(staff, 'Acknowledge');
    await acknowledge.getByLabel('Message (optional)').fill('Sorry about the lamp. We are looking into it today.');
    await staff.click(acknowledge.getByRole('button', { name: 'Acknowledge', exact: true }));
    await staff.notice('Acknowledged.');
    await staff.shot('acknowledged');
    await makeOffer(staff, { remedy: 'Partial refund', amount: '8.00', message: 'We can refund 8.00 EUR for the damage.' }, '05-shop-makes-an-offer');

    await openFromList(customer, 'My complaints', reference);
    await customer.sees('EUR 8.00');
    await customer.shot('offer', { doc: '06-customer-sees-the-offer', at: nextStep(customer) });
    await customer.page.getByText('Not happy with this offer?', { exact: true }).click(); // opens the <details>
    const reject = formOf(customer, 'Reject offer');
    await reject.getByRole('radio', { name: 'Amount too low', exact: true }).check();
    await reject.getByLabel('Anything else the shop should know?').fill('The shade is a third of the price.');
    await customer.shot('reject-filled', { formOnly: true, audit: 'complaint page (customer, an offer)', doc: '07-customer-rejects', at: customer.page.getByRole('group', { name: 'Why does the offer not suit you?' }) });
    await customer.click(reject.getByRole('button', { name: 'Reject offer', exact: true }));
    await customer.notice('You rejected the offer.');
    await customer.shot('rejected');

    await openFromList(staff, 'Inbox', reference);
    await staff.shot('after-rejection');
    await makeOffer(staff, { remedy: 'Voucher', amount: '25.00', message: 'We can offer a voucher for the whole 25.00 EUR.' });

    await openFromList(customer, 'My complaints', reference);
    await customer.sees('EUR 25.00');
    await customer.shot('second-offer');
    await customer.page.getByText('Ask a neutral mediator to decide', { exact: true }).click(); // opens the <details>
    const escalate = formOf(customer, 'Escalate to a mediator');
    await escalate.getByRole('radio', { name: 'Offers rejected', exact: true }).check();
    await escalate.getByLabel('What should the mediator know?').fill('I would like a refund, not a voucher.');
    await customer.shot('escalate-filled', { formOnly: true, doc: '08-customer-asks-for-a-mediator', at: customer.page.getByText('Ask a neutral mediator to decide', { exact: true }) });
    await customer.click(escalate.getByRole('button', { name: 'Escalate to a mediator', exact: true }));
    await customer.notice('A mediator will now decide.');
    await customer.shot('escalated');

    const admin = await j.actor('admin');
    await admin.signIn();
    if ((await admin.nav('Administration').getAttribute('aria-current')) !== 'page') {
      await admin.click(admin.nav('Administration'));
    }
    const waiting = admin.page.getByRole('region', { name: 'Waiting for a mediator' });
    await admin.shot('administration', { doc: '09-admin-assigns-a-mediator', at: waiting, audit: 'administration' });
    const row = waiting.getByRole('row').filter({ hasText: reference });
    await row.getByLabel(`Mediator for ${reference}`).selectOption({ label: 'Mia Mediator' });
    await admin.click(row.getByRole('button', { name: 'Assign mediator', exact: true }));
    await admin.notice('The mediator was assigned');
    await waiting.getByRole('link', { name: reference, exact: true }).waitFor({ state: 'detached' });
    await admin.shot('assigned');

    const mediator = await j.actor('mediator');
    await mediator.signIn({}, { home: 'mediation queue' });
    await openFromList(mediator, 'Mediation queue', reference);
    await mediator.shot('case');
    const decide = formOf(mediator, 'Send decision');
    await decide.getByRole('radio', { name: 'Split between both', exact: true }).check();
    await decide.getByRole('radio', { name: 'Partial refund', exact: true }).check();
    await decide.getByLabel(/^Amount/).fill('18.00');
    await decide.getByLabel('Reasoning', { exact: true }).fill('The shade was cracked on arrival; a refund of 18.00 EUR covers it. A voucher is not a refund.');
    await mediator.shot('decision-filled', { formOnly: true, audit: 'case file (mediator, deciding)', doc: '10-mediator-decides', at: mediator.page.getByRole('heading', { name: 'Your decision' }) });
    mediator.page.once('dialog', (d) => d.accept()); // "Send this decision? ..."
    await mediator.click(decide.getByRole('button', { name: 'Send decision', exact: true }));
    await mediator.notice('Your decision is sent to both sides.');
    await mediator.shot('decided');

    await openFromList(customer, 'My complaints', reference);
    await customer.sees('Decided by the mediator');
    await customer.sees('EUR 18.00');
    await customer.shot('decision', { doc: '11-customer-reads-the-decision', at: customer.page.getByRole('heading', { name: 'Decision', exact: true }) });
  },

  /// File → offer → accept → the shop fulfils → the customer says how it went.
  async settlement(j) {
    const customer = await j.actor('customer');
    await customer.signIn();
    const reference = await fileComplaint(customer, {
      order: orderNumber('B'),
      category: 'Wrong item',
      remedy: 'Replacement',
      description: 'I ordered a blue kettle and a red one arrived.',
    });

    const staff = await j.actor('staff');
    await staff.signIn();
    await openFromList(staff, 'Inbox', reference);
    await staff.shot('complaint');
    await makeOffer(staff, { remedy: 'Replacement', message: 'Sorry! A blue kettle is on its way; keep the red one.' });

    await openFromList(customer, 'My complaints', reference);
    await customer.sees('Sorry! A blue kettle is on its way; keep the red one.');
    await customer.shot('offer');
    await customer.click(customer.button('Accept offer', true));
    await customer.notice('You accepted the offer.');
    await customer.shot('accepted');

    await openFromList(staff, 'Inbox', reference);
    await staff.shot('to-fulfil');
    await staff.click(staff.button('Mark as fulfilled', true));
    await staff.notice('Marked as fulfilled.');
    await staff.shot('fulfilled');
    await staff.click(staff.nav('Dashboard'));
    await staff.shot('dashboard', { audit: 'dashboard' });
    // Shop integration: a new API key, shown once.
    await staff.click(staff.nav('Shop integration'));
    await staff.page.getByRole('textbox', { name: 'Name' }).first().fill('Shop backend');
    await staff.click(staff.button('Create API key', true));
    await staff.page.getByRole('textbox', { name: 'Copy it now' }).waitFor();
    await staff.shot('integration', { audit: 'shop integration' });

    await openFromList(customer, 'My complaints', reference);
    await customer.sees('Resolved');
    const feedback = formOf(customer, 'Send feedback');
    await customer.shot('resolved');
    if (await feedback.count()) {
      await feedback.getByRole('radio', { name: 'Very', exact: true }).check();
      await feedback.getByLabel('Anything you would like to add?').fill('Quick and friendly, thank you.');
      await customer.shot('feedback-filled', { formOnly: true, doc: '12-customer-rates-the-outcome', at: customer.page.getByRole('heading', { name: 'One question before you go' }) });
      await customer.click(feedback.getByRole('button', { name: 'Send feedback', exact: true }));
      await customer.notice('Thank you for your feedback.');
      await customer.shot('feedback-sent');
    }
  },

  /// Language and access, on a 360 px phone: a newcomer registers, picks
  /// Deutsch in the menu and keeps it (next pages; signed out: the cookie;
  /// signed in again without the cookie: the account), then signs in,
  /// switches back to English and files a complaint with the keyboard
  /// only. Also audits the pages the other journeys leave out (register,
  /// the error page).
  async access(j) {
    const who = { email: `newcomer-${Date.now().toString(36)}@example.test`, password: 'newcomer-pass-2026', device: 'phone' };
    const customer = await j.actor('newcomer', who);
    const p = customer.page;
    await customer.goto('/register');
    await customer.shot('register', { audit: 'register' });
    await p.getByLabel('Your name').fill('Nora Newcomer');
    await p.getByLabel('Email').fill(who.email);
    await p.getByLabel('Password').fill(who.password);
    await customer.click(customer.button('Create account', true));
    await p.waitForURL((u) => !u.pathname.startsWith('/register'));
    await customer.shot('home', { picture: false });

    // Deutsch from the menu (it sends itself on change), kept.
    const menu = (name) => p.getByRole('navigation', { name: 'Hauptmenü' }).getByRole('link', { name, exact: true });
    const german = async (step) => {
      if ((await lang(p)) !== 'de') throw new Error(`${step}: <html lang="${await lang(p)}">, not de`);
      await menu('Meine Beschwerden').waitFor();
    };
    await p.getByLabel('Language', { exact: true }).selectOption({ label: 'Deutsch' });
    await p.locator('html[lang="de"]').waitFor({ state: 'attached' });
    await german('after picking Deutsch');
    await customer.shot('deutsch');
    await customer.click(menu('Problem melden'));
    await german('on the next page');
    await customer.shot('deutsch-new-complaint', { picture: false });
    await customer.click(menu('Meine Beschwerden'));
    await german('back again');
    await customer.shot('deutsch-back', { picture: false });
    await customer.click(customer.button('Abmelden', true));
    if ((await lang(p)) !== 'de') throw new Error('signed out, the start page is no longer German');
    await customer.shot('deutsch-signed-out', { picture: false });
    // Without the cookie (a new browser asking for English) the sign-in
    // page is English; signed in, the account's German again.
    await p.context().clearCookies();
    await customer.goto('/sign-in');
    if ((await lang(p)) !== 'en') throw new Error(`without the cookie the sign-in page is "${await lang(p)}", not en`);
    await customer.shot('sign-in', { picture: false });

    // From here on the keyboard only. The skip link is the first stop and
    // leads to the content.
    await p.keyboard.press('Tab');
    if (!(await p.evaluate(() => document.activeElement.matches('a.skip-link')))) {
      throw new Error(`the first Tab stop is ${await focused(p)}, not the skip link`);
    }
    await assertFocusVisible(p);
    const skip = await p.locator('a.skip-link').boundingBox();
    if (!skip || skip.x < 0 || skip.x + skip.width > 360) throw new Error(`the focused skip link is off the screen: ${JSON.stringify(skip)}`);
    await p.keyboard.press('Enter');
    if (!(await p.evaluate(() => document.activeElement.id === 'main'))) {
      throw new Error(`the skip link moved the focus to ${await focused(p)}, not to the content`);
    }
    const form = p.locator('form', { has: p.getByLabel('Password', { exact: true }) });
    await tabTo(p, form.getByLabel('Email', { exact: true }));
    await p.keyboard.insertText(who.email);
    await tabTo(p, form.getByLabel('Password', { exact: true }));
    await p.keyboard.insertText(who.password);
    await tabTo(p, form.getByRole('button', { name: 'Sign in', exact: true }));
    await pressAndWait(customer, 'Enter', (u) => !u.pathname.startsWith('/sign-in'));
    await german('signed in again without the cookie');
    await customer.shot('deutsch-signed-in', { picture: false });
    // Back to English: the arrow key in the language menu sends it.
    await tabTo(p, p.getByLabel('Sprache', { exact: true }));
    await p.keyboard.press('ArrowUp');
    await p.locator('html[lang="en"]').waitFor({ state: 'attached' });
    await customer.nav('My complaints').waitFor();
    await customer.shot('english-again', { picture: false });

    // Filing: the menu, the shop by arrow keys, the icon tiles by arrow
    // keys and Space, the fields by typing, the photo by the file chooser
    // Space opens, and Enter on the button.
    await tabTo(p, customer.nav('Report a problem'));
    await pressAndWait(customer, 'Enter', /\/complaints\/new$/);
    await customer.shot('new-complaint', { picture: false });
    // Intercept file choosers now: Playwright tells the browser so
    // asynchronously, and a busy machine could otherwise let the Space below
    // open a native (headless: invisible) dialog before it does.
    p.on('filechooser', () => {});
    const shop = p.getByLabel('Shop', { exact: true });
    await tabTo(p, shop);
    for (let i = 0; i < 5 && (await shop.evaluate((e) => e.selectedOptions[0]?.text)) !== 'Demo Shop'; i++) {
      await p.keyboard.press('ArrowDown');
    }
    if ((await shop.evaluate((e) => e.selectedOptions[0]?.text)) !== 'Demo Shop') throw new Error('the arrow keys did not choose the shop');
    await chooseTile(p, p.getByRole('group', { name: 'What went wrong?' }), 'Damaged');
    // Back and forth: Shift+Tab returns to the chosen tile.
    await p.keyboard.press('Tab');
    await tabTo(p, p.getByRole('radio', { name: 'Damaged', exact: true }), { back: true });
    await chooseTile(p, p.getByRole('group', { name: 'What would put it right?' }), 'Partial refund');
    await tabTo(p, p.getByLabel('Amount you claim'));
    await p.keyboard.insertText('12.50');
    await tabTo(p, p.getByLabel('Order number'));
    const order = orderNumber('K');
    await p.keyboard.insertText(order);
    await tabTo(p, p.getByLabel('What happened?'));
    await p.keyboard.insertText('The handle came off the first time I used the pan.');
    await tabTo(p, p.getByLabel('Photos or documents'));
    const [chooser] = await Promise.all([p.waitForEvent('filechooser'), p.keyboard.press('Space')]);
    await chooser.setFiles({ name: 'pan.png', mimeType: 'image/png', buffer: photo() });
    await customer.shot('new-complaint-typed', { formOnly: true });
    await tabTo(p, customer.button('File complaint', true));
    await pressAndWait(customer, 'Enter', /\/complaints\/[^/]+$/);
    await customer.notice('Your complaint is filed.');
    await customer.sees('pan.png');
    await customer.sees(order);
    await customer.shot('complaint-filed');
    // A complaint that is not there: the error page.
    await customer.gotoError('/complaints/00000000-0000-0000-0000-000000000000', 404);
    await customer.shot('error-page', { audit: 'error page' });
  },
};

// --- Runner ---------------------------------------------------------------------

async function main() {
  const names = positionals.length ? positionals : DEFAULT_JOURNEYS;
  const unknown = names.filter((n) => !JOURNEYS[n]);
  if (unknown.length) {
    console.error(`unknown journeys: ${unknown.join(', ')}; known: ${Object.keys(JOURNEYS).join(', ')}`);
    process.exit(2);
  }
  // The docs pictures come from a run of every journey; start them afresh.
  if (!positionals.length) rmSync(join(opts.out, 'docs'), { recursive: true, force: true });
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    // Headless, root without a sandbox, and no calls home: this machine's
    // network is closed and Chromium would retry them many times.
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  log(`chromium ${browser.version()} started in ${Date.now() - started} ms; ${BASE}`);
  let failed = 0;
  for (const name of names) {
    const t0 = Date.now();
    log(`journey ${name}`);
    const j = new Journey(browser, name);
    try {
      await JOURNEYS[name](j);
      j.check(true);
      await j.close();
      log(`journey ${name}: passed in ${Date.now() - t0} ms, ${j.shots} screenshots in ${j.dir}`);
    } catch (e) {
      failed += 1;
      log(`journey ${name}: FAILED after ${Date.now() - t0} ms\n${e.stack ?? e}`);
      await evidence(j, browser);
    }
  }
  await browser.close();
  log(`screenshots took ${shotMs} ms, accessibility audits ${auditMs} ms`);
  log(`${names.length - failed} of ${names.length} journeys passed in ${Date.now() - started} ms`);
  process.exit(failed ? 1 : 0);
}

/// The failing page of each open context: URL, screenshot and text.
async function evidence(j, browser) {
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      try {
        const path = j.path('FAILED', 'page');
        await page.screenshot({ path, fullPage: true });
        const text = await page.locator('body').innerText({ timeout: 2000 });
        log(`--- page ${page.url()} (screenshot ${path}) ---\n${text.slice(0, 4000)}\n---`);
      } catch (e) {
        log(`(no evidence from ${page.url()}: ${e.message})`);
      }
    }
    await context.close().catch(() => {});
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
