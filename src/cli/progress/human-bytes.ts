import { goFixed } from "./go-fixed.js";

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/** Sizes as buildctl prints them (decimal units, 2 decimals, whole bytes below 1 kB): `77B`, `1.05MB`. */
export function humanBytes(n: number): string {
  let i = 0;
  let base = 1;
  while (i < UNITS.length - 1 && Math.abs(n) >= base * 1000) {
    base *= 1000;
    i++;
  }
  return i === 0 ? `${Math.trunc(n)}B` : `${goFixed(n / base, 2)}${UNITS[i]}`;
}
