/**
 * A shell snippet for proving that two containers run at the same time without timing them: each side
 * marks its arrival in a shared directory and waits for the other's mark. Run one after the other, the
 * first side gives up after `limitSeconds` and exits 9, so a serialised build fails instead of merely
 * being slow — and a loaded machine only makes the wait longer, never fails it.
 */
export function rendezvous(dir: string, me: string, other: string, limitSeconds = 30): string {
  const polls = limitSeconds * 20;
  return `touch ${dir}/${me}; i=0; while [ ! -e ${dir}/${other} ]; do i=$((i+1)); [ $i -gt ${polls} ] && exit 9; sleep 0.05; done`;
}
