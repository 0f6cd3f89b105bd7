/** Amounts of money in integer minor units. */

const ZERO_DECIMAL = new Set(["JPY", "KRW", "VND", "CLP"]);

/** An integer amount of a currency's minor unit (cents for EUR, yen for JPY). */
export interface Money {
  readonly minor: number;
  readonly currency: string;
}

/** Decimal places of a currency's minor unit. */
export function exponent(currency: string): number {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

/** Money from a decimal string such as "12.345", rounding half to even. */
export function parseMoney(amount: string, currency: string): Money {
  if (!/^\d+(\.\d+)?$/.test(amount)) {
    throw new RangeError(`invalid amount "${amount}": expected digits with an optional fraction`);
  }
  const places = exponent(currency);
  const [whole = "0", fraction = ""] = amount.split(".");
  const kept = fraction.padEnd(places, "0").slice(0, places);
  const rest = fraction.slice(places);
  let minor = Number(whole + kept);
  const first = rest.charAt(0);
  const tail = rest.slice(1);
  if (first > "5" || (first === "5" && /[1-9]/.test(tail)) || (first === "5" && minor % 2 === 1)) {
    minor += 1;
  }
  return { minor, currency: currency.toUpperCase() };
}

/** The sum of two amounts of the same currency. */
export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { minor: a.minor + b.minor, currency: a.currency };
}

/** `a` minus `b`, same currency. */
export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { minor: a.minor - b.minor, currency: a.currency };
}

/** E.g. "12.50 EUR" or "1200 JPY". */
export function formatMoney(money: Money): string {
  const places = exponent(money.currency);
  return `${(money.minor / 10 ** places).toFixed(places)} ${money.currency}`;
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new RangeError(`cannot combine ${a.currency} with ${b.currency}`);
  }
}
