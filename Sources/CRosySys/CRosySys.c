#define _GNU_SOURCE
#include "CRosySys.h"
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int crosy_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int crosy_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }

int crosy_spawn(const crosy_spawn_request *r, pid_t *pid) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    int err = posix_spawnattr_init(&attr);
    if (err) return err;
    err = posix_spawn_file_actions_init(&actions);
    if (err) { posix_spawnattr_destroy(&attr); return err; }

    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (!err) err = posix_spawnattr_setflags(&attr, flags);
    if (!err) err = posix_spawnattr_setpgroup(&attr, 0);
    if (!err) err = posix_spawnattr_setsigmask(&attr, &empty);
    if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);

    if (!err) {
        if (r->stdin_fd >= 0) err = posix_spawn_file_actions_adddup2(&actions, r->stdin_fd, 0);
        else err = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    if (!err && r->stdout_fd >= 0) err = posix_spawn_file_actions_adddup2(&actions, r->stdout_fd, 1);
    if (!err && r->stderr_fd >= 0) err = posix_spawn_file_actions_adddup2(&actions, r->stderr_fd, 2);
    if (!err && r->cwd) err = posix_spawn_file_actions_addchdir_np(&actions, r->cwd);

    if (!err) err = posix_spawn(pid, r->path, &actions, &attr, r->argv, r->envp);

    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return err;
}

static int signal_pipe_fd = -1;

static void write_signal(int sig) {
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    ssize_t n = write(signal_pipe_fd, &byte, 1);
    (void)n; /* a full pipe already holds a wake-up */
    errno = saved;
}

int crosy_install_signal_pipe(int fd, const int *signals, int count) {
    signal_pipe_fd = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = write_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
    }
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &ignore, NULL);
}

int crosy_unblock_all_signals(void) {
    sigset_t empty;
    sigemptyset(&empty);
    return pthread_sigmask(SIG_SETMASK, &empty, NULL);
}

int crosy_default_signal(int sig) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    return sigaction(sig, &action, NULL);
}

pid_t crosy_peek_exited_child(void) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid;
}

pid_t crosy_reap(pid_t pid, int *status) { return waitpid(pid, status, WNOHANG); }

int crosy_wifexited(int status) { return WIFEXITED(status); }
int crosy_wexitstatus(int status) { return WEXITSTATUS(status); }
int crosy_wifsignaled(int status) { return WIFSIGNALED(status); }
int crosy_wtermsig(int status) { return WTERMSIG(status); }

int crosy_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int crosy_sealed_memfd(const char *name, uint64_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)size) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int crosy_is_sealed_of_size(int fd, uint64_t size) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) return 0;
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return 0;
    return (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW);
}

int crosy_open_rdwr(const char *path) { return open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK); }

uint64_t crosy_load_acquire_u64(const void *address) {
    return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE);
}

void crosy_store_release_u64(void *address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}
