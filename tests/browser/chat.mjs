// Two browser pages against a running `chat` example: both come online, a
// line sent from one (with its user name) shows in the other and back, the
// favicon is an explicit 204, and no page logs an error. Usage:
//
//     node chat.mjs http://127.0.0.1:PORT/ [SCREENSHOT_DIR]
//
// Exits 0 when all of that held, 1 otherwise; gives up after 60 s. With
// SCREENSHOT_DIR it saves the two pages (desktop and phone width) there.
import { chromium } from "playwright-core";

const base = process.argv[2];
const shots = process.argv[3];
if (!base) {
  console.error("usage: node chat.mjs http://127.0.0.1:PORT/ [SCREENSHOT_DIR]");
  process.exit(2);
}
const LIMIT_MS = 60_000;
const WAIT_MS = 10_000;
setTimeout(() => {
  console.error(`chat.mjs: not done after ${LIMIT_MS / 1000} s`);
  process.exit(1);
}, LIMIT_MS).unref();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const errors = [];
let failed = false;
try {
  // Separate contexts: each page has its own storage, so its own name.
  const open = async (label, viewport) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("console", msg => {
      if (msg.type() === "error") errors.push(`${label}: ${msg.text()}`);
    });
    page.on("pageerror", err => errors.push(`${label}: ${err.message}`));
    await page.goto(base);
    await page.locator("#state", { hasText: "online" }).waitFor({ timeout: WAIT_MS });
    return page;
  };
  const alice = await open("desktop", { width: 1280, height: 800 });
  const bob = await open("phone", { width: 390, height: 844 });

  const say = async (page, name, text) => {
    await page.fill("#name", name);
    await page.fill("#text", text);
    await page.click("#send");
  };
  // A line in `page`'s log from `name` saying `text`.
  const heard = (page, name, text) =>
    page
      .locator("#log li", { has: page.locator(".who", { hasText: name }), hasText: text })
      .waitFor({ timeout: WAIT_MS });

  await say(alice, "alice", "hello from the desktop");
  await heard(bob, "alice", "hello from the desktop");
  await heard(alice, "alice", "hello from the desktop");
  await say(bob, "bob", "hi from the phone <b>not bold</b>");
  await heard(alice, "bob", "hi from the phone <b>not bold</b>");
  // Text from the network is text: no element was made of it.
  if ((await alice.locator("#log b").count()) !== 0) throw new Error("a chat line became HTML");
  console.log("chat.mjs: each page heard the other, names shown");

  const icon = await alice.request.get(new URL("/favicon.ico", base).href);
  if (icon.status() !== 204) throw new Error(`/favicon.ico answered ${icon.status()}, not 204`);
  console.log("chat.mjs: /favicon.ico is 204");

  if (shots) {
    await alice.screenshot({ path: `${shots}/chat-desktop.png` });
    await bob.screenshot({ path: `${shots}/chat-phone.png` });
    console.log(`chat.mjs: screenshots in ${shots}`);
  }
  if (errors.length) throw new Error(`errors in the pages:\n  ${errors.join("\n  ")}`);
} catch (err) {
  console.error(`chat.mjs: ${err.message}`);
  failed = true;
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log("chat.mjs: passed");
