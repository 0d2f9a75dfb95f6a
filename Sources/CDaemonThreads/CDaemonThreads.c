#include "CDaemonThreads.h"

#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>

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
