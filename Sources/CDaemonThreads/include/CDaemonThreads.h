#ifndef CERTKEEPER_CDAEMONTHREADS_H
#define CERTKEEPER_CDAEMONTHREADS_H

/// Names the calling thread (PR_SET_NAME: at most 15 bytes are kept). Returns 0, or -1 with errno set.
int certkeeper_set_thread_name(const char *name);

/// At most `count` malloc arenas (glibc's M_ARENA_MAX; its default is eight per core). Call before threads start.
/// Returns 1 on success, 0 on error (mallopt's convention).
int certkeeper_malloc_limit_arenas(int count);

/// Gives the pages of free heap memory in every arena back to the kernel (glibc's malloc_trim(0)). Returns 1 when
/// memory was released.
int certkeeper_malloc_trim(void);

/// 1 when `signal`'s disposition is SIG_IGN (inherited from the parent: `nohup`, a shell's background job), else 0.
int certkeeper_signal_is_ignored(int signal);

#endif
