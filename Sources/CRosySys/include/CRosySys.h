#ifndef CROSYSYS_H
#define CROSYSYS_H
#include <stdint.h>
#include <sys/types.h>

/// Makes this process a child subreaper (orphaned descendants are re-parented to it).
int crosy_set_child_subreaper(void);
/// Asks the kernel to send `sig` to this process when its parent dies.
int crosy_set_parent_death_signal(int sig);

/// How `crosy_spawn` starts a program.
typedef struct crosy_spawn_request {
    /// The program: a path (used as is).
    const char *path;
    /// NULL-terminated argument vector (argv[0] first).
    char *const *argv;
    /// NULL-terminated environment ("KEY=value").
    char *const *envp;
    /// Folder to start in, or NULL to inherit.
    const char *cwd;
    /// File descriptors the child gets as 0, 1 and 2 (-1: /dev/null for 0, inherit for 1 and 2).
    int stdin_fd, stdout_fd, stderr_fd;
} crosy_spawn_request;

/// posix_spawn with the supervisor's settings: the child leads a new process group, its
/// signal mask is empty and every signal's disposition is the default, stdin/stdout/stderr
/// come from the request. Returns 0 and stores the pid, or an errno value.
int crosy_spawn(const crosy_spawn_request *request, pid_t *pid);

/// Installs handlers for `count` signals in `signals` that write the signal number as one
/// byte to `fd` (a non-blocking pipe): the supervisor's poll loop reads them.
/// SA_RESTART is set; SIGPIPE is ignored.
int crosy_install_signal_pipe(int fd, const int *signals, int count);

/// Empties the calling thread's signal mask (a parent may have started us with signals blocked).
int crosy_unblock_all_signals(void);

/// Restores the default disposition of a signal.
int crosy_default_signal(int sig);

/// waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT): peeks at one exited child without reaping it.
/// Returns its pid (0 when none has exited, -1 on error, e.g. no children).
pid_t crosy_peek_exited_child(void);

/// Reaps `pid`; stores the raw wait status. Returns pid, 0 or -1 like waitpid(WNOHANG).
pid_t crosy_reap(pid_t pid, int *status);

/// pipe2(fds, O_CLOEXEC).
int crosy_pipe_cloexec(int fds[2]);

/// Decodes a wait status.
int crosy_wifexited(int status);
int crosy_wexitstatus(int status);
int crosy_wifsignaled(int status);
int crosy_wtermsig(int status);

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING) sized to `size` bytes and sealed
/// against shrinking and growing (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): a peer that
/// maps it can never be made to fault by a truncation. Returns the descriptor, or -1 (errno).
int crosy_sealed_memfd(const char *name, uint64_t size);
/// Whether `fd` is a regular file of exactly `size` bytes that can neither shrink nor grow
/// (1), or not (0).
int crosy_is_sealed_of_size(int fd, uint64_t size);
/// open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK): never blocks on a FIFO.
int crosy_open_rdwr(const char *path);
/// The 64-bit word at `address`, read with acquire ordering (it is shared with another process).
uint64_t crosy_load_acquire_u64(const void *address);
/// Stores `value` at `address` with release ordering.
void crosy_store_release_u64(void *address, uint64_t value);
#endif
