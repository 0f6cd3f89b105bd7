import assert from "node:assert/strict";
import { test } from "node:test";

import { formatMoney, parseMoney, subtract } from "../src/money.js";

test("parseMoney rounds half to even per currency", () => {
  assert.deepEqual(parseMoney("12.345", "eur"), { minor: 1234, currency: "EUR" });
  assert.deepEqual(parseMoney("12.355", "EUR"), { minor: 1236, currency: "EUR" });
  assert.deepEqual(parseMoney("1200.5", "JPY"), { minor: 1200, currency: "JPY" });
});

test("arithmetic refuses mixed currencies", () => {
  assert.equal(formatMoney(subtract({ minor: 500, currency: "EUR" }, { minor: 200, currency: "EUR" })), "3.00 EUR");
  assert.throws(() => subtract({ minor: 1, currency: "EUR" }, { minor: 1, currency: "USD" }), /cannot combine EUR with USD/);
});
