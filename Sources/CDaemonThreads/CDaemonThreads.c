#include "CDaemonThreads.h"

#include <malloc.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <time.h>

// The runtime's hook types (swift/Runtime/Concurrency.h, stable since Swift 5.5): every entry point uses the
// Swift calling convention and receives the runtime's own implementation as its last argument.
#define SWIFTCC __attribute__((swiftcall))
typedef void Job;
typedef SWIFTCC void (*enqueue_original)(Job *job);
typedef SWIFTCC void (*delay_original)(unsigned long long delay, Job *job);
typedef SWIFTCC void (*deadline_original)(long long sec, long long nsec, long long tsec, long long tnsec, int clock,
                                          Job *job);

extern SWIFTCC void (*swift_task_enqueueGlobal_hook)(Job *job, enqueue_original original);
extern SWIFTCC void (*swift_task_enqueueGlobalWithDelay_hook)(unsigned long long delay, Job *job,
                                                              delay_original original);
extern SWIFTCC void (*swift_task_enqueueGlobalWithDeadline_hook)(long long sec, long long nsec, long long tsec,
                                                                 long long tnsec, int clock, Job *job,
                                                                 deadline_original original);

static certkeeper_global_job_callback global_callback;

static SWIFTCC void enqueue_now(Job *job, enqueue_original original) {
    (void)original;
    global_callback(job, 0);
}

static SWIFTCC void enqueue_after(unsigned long long delay, Job *job, delay_original original) {
    (void)original;
    global_callback(job, delay);
}

// The runtime's clock identifiers: 1 is ContinuousClock (CLOCK_BOOTTIME on Linux), 2 SuspendingClock
// (CLOCK_MONOTONIC). The tolerance (tsec, tnsec) is not used: the event loop's timers are exact.
static SWIFTCC void enqueue_at(long long sec, long long nsec, long long tsec, long long tnsec, int clock, Job *job,
                               deadline_original original) {
    (void)tsec;
    (void)tnsec;
    (void)original;
    struct timespec now;
    clock_gettime(clock == 1 ? CLOCK_BOOTTIME : CLOCK_MONOTONIC, &now);
    long long remaining_sec = sec - now.tv_sec;
    long long remaining_nsec = nsec - now.tv_nsec;
    uint64_t delay = 0;
    if (remaining_sec > 0 || (remaining_sec == 0 && remaining_nsec > 0)) {
        // A deadline centuries away (a sleep meant to last forever) is held at about 292 years.
        if (remaining_sec >= 9000000000LL) {
            delay = UINT64_MAX / 2;
        } else {
            delay = (uint64_t)(remaining_sec * 1000000000LL + remaining_nsec);
        }
    }
    global_callback(job, delay);
}

int certkeeper_install_global_executor(certkeeper_global_job_callback callback) {
    if (callback == NULL || swift_task_enqueueGlobal_hook != NULL || swift_task_enqueueGlobalWithDelay_hook != NULL ||
        swift_task_enqueueGlobalWithDeadline_hook != NULL) {
        return -1;
    }
    global_callback = callback;
    swift_task_enqueueGlobalWithDeadline_hook = enqueue_at;
    swift_task_enqueueGlobalWithDelay_hook = enqueue_after;
    swift_task_enqueueGlobal_hook = enqueue_now;
    return 0;
}

int certkeeper_set_thread_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

int certkeeper_malloc_limit_arenas(int count) { return mallopt(M_ARENA_MAX, count); }

int certkeeper_malloc_trim(void) { return malloc_trim(0); }
