#if canImport(Glibc)
import Glibc
#endif

/// A tiny `/bin/sh` process that kills the nodes' process groups if the supervisor dies
/// without stopping them, even by SIGKILL.
///
/// The supervisor keeps the write end of a pipe whose read end is the watchdog's stdin and
/// tells it `+PGID` when a node starts and `-PGID` when it is reaped. When the supervisor
/// dies the kernel closes the pipe: the watchdog reads end-of-file, finds in `/proc` every
/// process in a listed group and every descendant of one (a helper that called setsid
/// since the supervisor's last scan is in no listed group, but still a node's child), and
/// SIGKILLs them, their groups and the listed groups. It runs in its own process group and
/// ignores the terminal's signals, so a Ctrl+C reaches the supervisor (which stops the
/// nodes cleanly) and not the watchdog.
/// PR_SET_PDEATHSIG would need code between fork and exec, which posix_spawn cannot run,
/// and would only cover direct children; process groups also catch a node's helpers.
final class OrphanWatchdog {
    static let script = """
        trap '' INT TERM HUP QUIT
        groups=''
        while read -r line; do
          case $line in
            +*) groups="$groups ${line#+}" ;;
            -*) id=${line#-}; kept=''
                for g in $groups; do [ "$g" = "$id" ] || kept="$kept $g"; done
                groups=$kept ;;
          esac
        done
        table=''
        for f in /proc/[0-9]*/stat; do
          read -r s < "$f" 2>/dev/null || continue
          set -- ${s##*) }
          table="$table${s%% *} $2 $3
        "
        done
        marked=' '
        for g in $groups; do marked="$marked$g "; done
        more=yes
        while [ $more = yes ]; do
          more=no
          while read -r pid parent group; do
            case $marked in *" $pid "*) continue ;; esac
            case $marked in *" $parent "*|*" $group "*) marked="$marked$pid "; more=yes ;; esac
          done <<EOF
        $table
        EOF
        done
        for p in $marked; do kill -9 "-$p" "$p" 2>/dev/null; done
        exit 0
        """

    let pid: pid_t
    private var pipe: Int32
    private(set) var isAlive = true

    init() throws {
        let ends = try Posix.pipe()
        defer { close(ends.read) }
        do {
            pid = try Spawner.spawn(SpawnRequest(arguments: ["/bin/sh", "-c", Self.script, "rosy-launch-watchdog"],
                                                 environment: ["PATH=/usr/bin:/bin"]),
                                    stdin: ends.read, stdout: -1, stderr: -1)
        } catch {
            close(ends.write)
            throw error
        }
        pipe = ends.write
    }

    func watch(group: pid_t) { send("+\(group)\n") }
    func forget(group: pid_t) { send("-\(group)\n") }

    /// Tells the watchdog to exit without killing anything (every node is gone).
    func dismiss() {
        guard pipe >= 0 else { return }
        close(pipe)
        pipe = -1
    }

    private func send(_ line: String) {
        guard pipe >= 0, isAlive else { return }
        if !Posix.writeAll(pipe, line) { isAlive = false }
    }
}
