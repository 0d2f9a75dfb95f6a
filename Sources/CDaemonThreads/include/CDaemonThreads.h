#ifndef CERTKEEPER_CDAEMONTHREADS_H
#define CERTKEEPER_CDAEMONTHREADS_H

#include <stdint.h>

/// Receives every job Swift concurrency would give its global executor: `job` is the runtime's `Job *` (an
/// `UnownedJob` in Swift), `delay_ns` how long from now it must wait (0: run it as soon as possible).
typedef void (*certkeeper_global_job_callback)(void *job, uint64_t delay_ns);

/// Routes the global executor's three entry points (enqueue now, after a delay, at a deadline on the continuous or
/// suspending clock) to `callback` by setting the runtime's `swift_task_enqueueGlobal*_hook` variables, which the
/// runtime exports for exactly this (SwiftNIO sets the first the same way). Call once, before any task starts.
/// Returns 0, or -1 when a hook was already set by someone else (nothing is changed then).
int certkeeper_install_global_executor(certkeeper_global_job_callback callback);

/// Names the calling thread (PR_SET_NAME: at most 15 bytes are kept). Returns 0, or -1 with errno set.
int certkeeper_set_thread_name(const char *name);

/// At most `count` malloc arenas (glibc's M_ARENA_MAX; its default is eight per core). Call before threads start.
/// Returns 1 on success, 0 on error (mallopt's convention).
int certkeeper_malloc_limit_arenas(int count);

/// Gives the pages of free heap memory in every arena back to the kernel (glibc's malloc_trim(0)). Returns 1 when
/// memory was released.
int certkeeper_malloc_trim(void);

#endif
