/**
 * The operators' console in a real browser (Debian's Chromium through
 * playwright-core) against a whole worker in-process, after a story sent
 * through the real topics: an order of two milestones, both funded, the first
 * reached and released (a payout asked for), an event for a milestone the
 * order does not have (rejected), and a message that is not valid Avro
 * (dead-lettered). The console refuses without the token (its data requests
 * answered 401, the sign-in page shown), signs in, shows the order's figures
 * exactly as the API gives them, follows a timeline link to the ledger
 * transaction an event caused and reads balances as of a line, shows the
 * provider, and finds the stuck milestone and the dead letter on the
 * attention page. The token travels only in the Authorization header.
 * Screenshots of each page go to screenshots/ (ignored by git).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { ensureChromium, launchChromium } from '../support/chromium';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const token = 'console-test-token-6b1f0e2a';
const port = randomOpsPort();
const ctx = useTestContext({ OPS_PORT: String(port), OPS_TOKEN: token });
const base = `http://127.0.0.1:${port}`;
const screenshots = path.resolve(__dirname, '..', '..', 'screenshots');
const orderId = 'o-console';
let worker: RunningWorker;
let kafka: Kafka;
let codec: RegistryCodec;
let browser: Browser;

async function send(name: InboundTopic, messages: { key: string; value: Buffer }[]) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: `${ctx.config.TOPIC_PREFIX}${name}`, messages });
  } finally {
    await producer.disconnect();
  }
}

const encoded = async (name: InboundTopic, message: Record<string, unknown>) => ({
  key: String(message.orderId),
  value: await codec.encode(name, message),
});

async function api(route: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${route}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const milestoneState = async (milestoneId: string) =>
  (
    await ctx
      .db('milestones')
      .where({ order_id: orderId, milestone_id: milestoneId })
      .first<{ state: string } | undefined>('state')
  )?.state;

beforeAll(async () => {
  ensureChromium();
  mkdirSync(screenshots, { recursive: true });
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'console-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
  ]);
  const [opened] = validMessages['escrow.orders.v1'];
  const [first] = opened.milestones;
  await send('escrow.orders.v1', [
    await encoded('escrow.orders.v1', {
      ...opened,
      eventId: `open-${orderId}`,
      orderId,
      providerId: 'p-console',
      milestones: [
        { ...first, milestoneId: 'm-1', sequence: 1, amount: '500.00' },
        { ...first, milestoneId: 'm-2', sequence: 2, amount: '300.00' },
      ],
    }),
  ]);
  const pay = validMessages['escrow.payment-confirmed.v1'][0];
  await send('escrow.payment-confirmed.v1', [
    await encoded('escrow.payment-confirmed.v1', {
      ...pay,
      eventId: 'pay-console-1',
      orderId,
      milestoneId: 'm-1',
      amount: '500.00',
      gatewayReference: 'ch-console-1',
    }),
    await encoded('escrow.payment-confirmed.v1', {
      ...pay,
      eventId: 'pay-console-2',
      orderId,
      milestoneId: 'm-2',
      amount: '300.00',
      gatewayReference: 'ch-console-2',
    }),
  ]);
  await waitUntil(async () => (await milestoneState('m-2')) === 'FUNDED', 45_000, 'm-2 funded');
  const reached = validMessages['escrow.milestone-reached.v1'][0];
  await send('escrow.milestone-reached.v1', [
    await encoded('escrow.milestone-reached.v1', {
      ...reached,
      eventId: 'reached-console-m-9',
      orderId,
      milestoneId: 'm-9',
      finalAmount: null,
    }),
    await encoded('escrow.milestone-reached.v1', {
      ...reached,
      eventId: 'reached-console-m-1',
      orderId,
      milestoneId: 'm-1',
      finalAmount: null,
    }),
    // Not Avro at all: dead-lettered with its reason, and consuming goes on.
    { key: orderId, value: Buffer.from('this is not an Avro message') },
  ]);
  await waitUntil(async () => (await milestoneState('m-1')) === 'RELEASED', 45_000, 'm-1 released');
  browser = await launchChromium();
}, 20 * 60_000);

ctx.beforeTeardown(async () => {
  await browser?.close();
  await worker?.stop();
});

/** A page that records every request it makes, to check the token never leaves the header. */
async function openPage(viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const requests: { url: string; authorization: string | undefined }[] = [];
  page.on('request', (request) =>
    requests.push({ url: request.url(), authorization: request.headers().authorization }),
  );
  return { page, requests };
}

async function signIn(page: Page) {
  await page.getByLabel('Operations token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

test('without the token the data requests are refused and the sign-in page is shown', async () => {
  const { page } = await openPage();
  const refused = page.waitForResponse((response) => response.url().includes(`/orders/${orderId}`));
  await page.goto(`${base}/console/#/order/${orderId}`);
  expect((await refused).status()).toBe(401);
  await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
  await page.getByLabel('Operations token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token was refused').waitFor();
  await shot(page, 'console-sign-in');
  await page.close();
});

test('signed in: the order, its figures as the API gives them, a timeline link followed, balances as of a line', async () => {
  const { page, requests } = await openPage();
  await page.goto(`${base}/console/#/order/${orderId}`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const signedInFrom = requests.length;
  await signIn(page);
  await page.locator('#order-id').waitFor();
  expect(await page.locator('#order-id').textContent()).toBe(orderId);

  const order = (await api(`/orders/${orderId}`)) as {
    currency: string;
    milestones: Record<string, string>[];
  };
  const rows = page.locator('table.milestones tbody tr');
  expect(await rows.count()).toBe(order.milestones.length);
  for (const [index, milestone] of order.milestones.entries()) {
    const cells = await rows.nth(index).locator('td').allTextContents();
    const money = (amount: string) => `${amount} ${order.currency}`;
    expect(cells).toEqual([
      milestone.milestoneId,
      milestone.state,
      money(milestone.amount!),
      money(milestone.funded!),
      money(milestone.held!),
      money(milestone.disputed!),
      money(milestone.released!),
      money(milestone.fees!),
      money(milestone.refunded!),
    ]);
  }
  expect(order.milestones.map((row) => [row.state, row.held, row.released])).toEqual([
    ['RELEASED', '0.00', '500.00'],
    ['FUNDED', '300.00', '0.00'],
  ]);

  // The rejected event shows its reason; the release's event links to its ledger transaction.
  const rejected = page.locator('li.line-event', { hasText: 'reached-console-m-9' });
  await expect(rejected.locator('.verdict').textContent()).resolves.toBe('REJECTED');
  const reachedLine = page.locator('li.line-event', { hasText: 'reached-console-m-1' });
  await shot(page, 'console-order');
  await reachedLine.getByRole('link', { name: /^transaction \d+ \(RELEASE\)$/ }).click();
  const focused = page.locator('li.line:focus');
  expect(await focused.getAttribute('data-line')).toMatch(/^transaction:\d+$/);
  expect(await focused.locator('table.entries tbody tr').count()).toBeGreaterThanOrEqual(2);
  await expect(focused.textContent()).resolves.toContain('RELEASE');

  // Balances at the first funding: m-1 funded, nothing released yet.
  const funding = page.locator('li.line-transaction', { hasText: 'FUNDING' }).first();
  await funding.getByRole('link', { name: 'Balances at this moment' }).click();
  await page.locator('table.as-of').waitFor();
  const asOfCells = await page
    .locator('table.as-of tbody tr')
    .first()
    .locator('td')
    .allTextContents();
  expect(asOfCells.slice(0, 5)).toEqual([
    'm-1',
    '500.00 USD',
    '500.00 USD',
    '500.00 USD',
    '0.00 USD',
  ]);
  await shot(page, 'console-order-as-of');

  // The token went in the header of every data request and in no URL.
  expect(requests.some((request) => request.url.includes(token))).toBe(false);
  const data = requests.slice(signedInFrom).filter((request) => request.url.includes('/orders/'));
  expect(data.length).toBeGreaterThan(0);
  for (const request of data) expect(request.authorization).toBe(`Bearer ${token}`);

  // A phone-sized screen shows the same page.
  const phone = await openPage({ width: 390, height: 844 });
  await phone.page.goto(`${base}/console/#/order/${orderId}`);
  await signIn(phone.page);
  await phone.page.locator('#order-id').waitFor();
  await shot(phone.page, 'console-order-phone');
  await phone.page.close();
  await page.close();
});

test('the provider page shows what the API says the provider is owed and its payout', async () => {
  const { page } = await openPage();
  await page.goto(`${base}/console/#/provider/p-console`);
  await signIn(page);
  await page.locator('table.provider-money').waitFor();
  const provider = (await api('/providers/p-console')) as {
    currencies: { payable: string; currency: string }[];
    payouts: { netAmount: string; state: string }[];
  };
  const cells = await page.locator('table.provider-money tbody tr td').allTextContents();
  expect(cells[0]).toBe('USD');
  expect(cells[1]).toBe(`${provider.currencies[0]!.payable} USD`);
  const payoutRow = await page.locator('table.payouts tbody tr').first().allTextContents();
  expect(payoutRow[0]).toContain(`${provider.payouts[0]!.netAmount} USD`);
  expect(payoutRow[0]).toContain(provider.payouts[0]!.state);
  await shot(page, 'console-provider');
  await page.close();
});

test('the attention page finds the milestone holding funds and the dead letter', async () => {
  const { page } = await openPage();
  await page.goto(`${base}/console/#/attention`);
  await signIn(page);
  await page.getByRole('heading', { name: 'Needs attention' }).waitFor();
  const stuck = page.locator('table.stuck tbody tr', { hasText: orderId });
  expect(await stuck.locator('td').allTextContents()).toEqual(
    expect.arrayContaining(['m-2', 'FUNDED', '300.00 USD']),
  );
  expect(await page.locator('.bar', { hasText: '< 1d' }).textContent()).toContain('1 milestone');
  const deadLetter = page.locator('table.dead-letters tbody tr', { hasText: orderId });
  await deadLetter.waitFor({ timeout: 45_000 });
  await expect(deadLetter.textContent()).resolves.toContain('milestone-reached');
  await page.getByRole('button', { name: 'Run reconciliation now' }).click();
  await page.locator('#internal-reconciliation .report').waitFor({ timeout: 45_000 });
  await shot(page, 'console-attention');
  await page.close();
});
