// Go's fmt `%.Nf` rounds the exact binary value half-to-even; JavaScript's toFixed rounds exact ties up.
// buildctl's sizes and times are Go-formatted, so ties such as 1.125 → "1.12" must round the Go way.

/** `x` with `digits` decimals as Go's `%.*f` prints it. */
export function goFixed(x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x.toFixed(digits);
  // Enough digits that a value which only looks like a tie cannot round to one.
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const [whole, frac] = exact.split(".");
  const kept = whole + frac.slice(0, digits);
  const rest = frac.slice(digits);
  const tie = /^50*$/.test(rest);
  const up = rest[0] > "5" || (rest[0] === "5" && !tie) || (tie && Number(kept.at(-1)) % 2 === 1);
  const n = (BigInt(kept) + (up ? 1n : 0n)).toString().padStart(digits + 1, "0");
  const text = digits > 0 ? `${n.slice(0, n.length - digits)}.${n.slice(n.length - digits)}` : n;
  return x < 0 ? `-${text}` : text;
}
