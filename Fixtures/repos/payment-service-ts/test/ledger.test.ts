import assert from "node:assert/strict";
import { test } from "node:test";

import { PaymentError } from "../src/errors.js";
import { Ledger } from "../src/ledger.js";

test("a balanced entry moves balances", () => {
  const ledger = new Ledger();
  ledger.post([
    { account: "buyer:a1", amount: { minor: -700, currency: "EUR" } },
    { account: "clearing", amount: { minor: 700, currency: "EUR" } },
  ], "charge");
  assert.deepEqual(ledger.balance("clearing", "eur"), { minor: 700, currency: "EUR" });
  assert.equal(ledger.entries("buyer:a1").length, 1);
});

test("an unbalanced entry is refused with 422", () => {
  assert.throws(
    () => new Ledger().post([{ account: "clearing", amount: { minor: 1, currency: "EUR" } }], "typo"),
    (error: unknown) => error instanceof PaymentError && error.status === 422 && /unbalanced/.test(error.message),
  );
});
