#include "CDaemonThreads.h"

#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>

// The runtime's hook type (swift/Runtime/Concurrency.h, stable since Swift 5.5): the Swift calling convention, and
// the runtime's own implementation as the last argument.
#define SWIFTCC __attribute__((swiftcall))
typedef void Job;
typedef SWIFTCC void (*enqueue_original)(Job *job);

extern SWIFTCC void (*swift_task_enqueueGlobal_hook)(Job *job, enqueue_original original);

static certkeeper_global_job_callback global_callback;

static SWIFTCC void enqueue_now(Job *job, enqueue_original original) {
    (void)original;
    global_callback(job);
}

int certkeeper_install_global_executor(certkeeper_global_job_callback callback) {
    if (callback == NULL || swift_task_enqueueGlobal_hook != NULL) {
        return -1;
    }
    global_callback = callback;
    swift_task_enqueueGlobal_hook = enqueue_now;
    return 0;
}

int certkeeper_set_thread_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

int certkeeper_malloc_limit_arenas(int count) { return mallopt(M_ARENA_MAX, count); }

int certkeeper_malloc_trim(void) { return malloc_trim(0); }

int certkeeper_signal_is_ignored(int signal) {
    struct sigaction current;
    if (sigaction(signal, NULL, &current) != 0) {
        return 0;
    }
    return !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN;
}
