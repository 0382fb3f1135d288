#ifndef CROSYSYS_H
#define CROSYSYS_H
#include <sys/types.h>

/// Makes this process a child subreaper (orphaned descendants are re-parented to it).
int crosy_set_child_subreaper(void);
/// Asks the kernel to send `sig` to this process when its parent dies.
int crosy_set_parent_death_signal(int sig);
#endif
