#ifndef CROSYSYS_H
#define CROSYSYS_H
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
#endif
