// The devnet's child processes (btcd and LND on regtest; aperture, litd and lnc-server for LNC):
// spawned with their output in a log file, stopped with SIGTERM then SIGKILL after 10 s, their pids
// recorded so a sentinel SIGKILLs them within a second if this process dies without stopping them
// (SIGKILL, a crashed test runner): only the pids recorded, only while still those binaries. Node only.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Proc {
	name: string;
	child: ChildProcess;
	exited: Promise<void>;
	exitReason: string | null;
	logFile: string;
}

/** The last lines of a log file, for a sentence about a process that died. */
export function tail(file: string, lines = 15): string {
	try {
		return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
	} catch {
		return '(no log)';
	}
}

export interface ProcessGroupOptions {
	/** `pids.txt` (pid and binary a line, what the sentinel reads) is written here. */
	dir: string;
	/** The sentinel's name in `ps`. */
	sentinelName: string;
	/** Also write the pids as JSON here (for finding a crashed run's processes on the next start). */
	pidsJsonFile?: string;
}

export interface ProcessGroup {
	readonly procs: ReadonlyMap<string, Proc>;
	/** Output goes to `logFile`, unless `stdio` asks for pipes. */
	spawn(
		name: string,
		bin: string,
		args: string[],
		logFile: string,
		stdio?: ['ignore', 'pipe', 'pipe']
	): Proc;
	/** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
	stop(name: string): Promise<void>;
	/** Why `name` exited, with the end of its log, or null while it runs. */
	died(name: string): string | null;
	/** Ends the sentinel, once every process is stopped. */
	endSentinel(): void;
}

export const PIDS_TEXT = 'pids.txt';

export function startProcessGroup(options: ProcessGroupOptions): ProcessGroup {
	const procs = new Map<string, Proc>();
	const pidsText = path.join(options.dir, PIDS_TEXT);
	const recordPids = () => {
		const list = [...procs.values()]
			.filter((p) => p.exitReason === null && p.child.pid)
			.map((p) => ({ pid: p.child.pid!, bin: p.child.spawnfile }));
		if (options.pidsJsonFile) writeFileSync(options.pidsJsonFile, JSON.stringify(list));
		writeFileSync(pidsText, list.map((p) => `${p.pid} ${p.bin}\n`).join(''));
	};
	recordPids();
	const sentinel = spawn(
		'/bin/sh',
		[
			'-c',
			'while kill -0 "$1" 2>/dev/null; do sleep 1; done; ' +
				'while read -r pid bin; do [ "$(tr "\\0" " " < /proc/$pid/cmdline 2>/dev/null | cut -d" " -f1)" = "$bin" ] && kill -9 "$pid"; done < "$2"',
			options.sentinelName,
			String(process.pid),
			pidsText
		],
		{ detached: true, stdio: 'ignore' }
	);
	sentinel.unref();

	return {
		procs,
		spawn(name, bin, args, logFile, stdio) {
			let child: ChildProcess;
			if (stdio) child = spawn(bin, args, { stdio });
			else {
				mkdirSync(path.dirname(logFile), { recursive: true });
				const fd = openSync(logFile, 'a');
				child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
				closeSync(fd);
			}
			const proc: Proc = { name, child, exitReason: null, logFile, exited: Promise.resolve() };
			proc.exited = new Promise<void>((resolve) => {
				child.once('exit', (code, signal) => {
					proc.exitReason = `${name} exited (${signal ?? `code ${code}`})`;
					resolve();
				});
				child.once('error', (e) => {
					proc.exitReason = `${name} could not start: ${e.message}`;
					resolve();
				});
			});
			procs.set(name, proc);
			recordPids();
			return proc;
		},
		async stop(name) {
			const proc = procs.get(name);
			if (!proc || proc.exitReason !== null) return;
			proc.child.kill('SIGTERM');
			const killer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
			await proc.exited;
			clearTimeout(killer);
			recordPids();
		},
		died(name) {
			const proc = procs.get(name);
			return proc && proc.exitReason !== null
				? `${proc.exitReason}; last lines of ${proc.logFile}:\n${tail(proc.logFile)}`
				: null;
		},
		endSentinel() {
			if (sentinel.exitCode === null) sentinel.kill('SIGKILL');
		}
	};
}
