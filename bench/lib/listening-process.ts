import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The process listening on a TCP port of this machine (IPv4 or IPv6), from /proc: the listening
 * socket's inode in /proc/net/tcp[6], then the process holding a descriptor to it. For servers
 * whose harness does not hand out a pid (the Kafka broker's JVM, redis-server), so their CPU can
 * be read like every other process's.
 */
export function pidListeningOn(port: number): number {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth field.
      if (fields.length < 10 || fields[3] !== '0A') continue;
      if (Number.parseInt(fields[1]!.split(':')[1]!, 16) === port) inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (inodes.size === 0) throw new Error(`nothing listens on port ${port}`);
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let descriptors: string[];
    try {
      descriptors = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // ended, or not ours to read
    }
    for (const descriptor of descriptors) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${descriptor}`))) return Number(pid);
      } catch {
        // closed between listing and reading
      }
    }
  }
  throw new Error(`port ${port} is listened on, but no process of ours holds the socket`);
}
