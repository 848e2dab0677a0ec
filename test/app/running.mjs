// Whether a process is still running. One that has exited but is not reaped yet (a zombie: its parent, often PID 1
// for the detached stand-in app or a killed run's restart shell, has not collected it) holds no port and no file,
// so it counts as gone: where PID 1 reaps lazily, waiting on kill(pid, 0) alone costs a second or two each time.
import { readFileSync } from 'node:fs';

/** @param {number} pid */
export function running(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    // "pid (comm) state ...": comm may hold spaces and parentheses; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false; // reaped since the kill(pid, 0)
  }
}
